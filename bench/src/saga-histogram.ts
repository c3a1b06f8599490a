/**
 * The order service's `tracemart_saga_duration` histogram (seconds, placement to terminal state, by
 * `outcome`), read from its /metrics before and after a phase; the difference is that phase's sagas.
 */
export type Buckets = Map<number, number>;

export async function scrapeSagaBuckets(orderUrl: string, outcome = 'confirmed'): Promise<Buckets> {
  const text = await (await fetch(`${orderUrl}/metrics`, { signal: AbortSignal.timeout(5_000) })).text();
  const buckets: Buckets = new Map();
  const pattern = /^tracemart_saga_duration_bucket\{([^}]*)\}\s+([\d.e+]+)$/gm;
  for (const match of text.matchAll(pattern)) {
    const labels = match[1] ?? '';
    if (!labels.includes(`outcome="${outcome}"`)) continue;
    const le = /le="([^"]+)"/.exec(labels)?.[1];
    if (le === undefined) continue;
    buckets.set(le === '+Inf' ? Infinity : Number(le), Number(match[2]));
  }
  return buckets;
}

export function diffBuckets(after: Buckets, before: Buckets): Buckets {
  const diff: Buckets = new Map();
  for (const [le, value] of after) diff.set(le, value - (before.get(le) ?? 0));
  return diff;
}

export interface SagaStats {
  count: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  /** Share of sagas done within 150 ms: exact, 0.15 s is a bucket boundary. */
  within150ms: number;
}

/** Percentiles by linear interpolation inside the bucket, as Prometheus' histogram_quantile does. */
export function sagaStats(buckets: Buckets): SagaStats | undefined {
  const bounds = [...buckets.keys()].sort((a, b) => a - b);
  const total = buckets.get(Infinity) ?? 0;
  if (total <= 0) return undefined;
  const quantile = (q: number): number => {
    const rank = q * total;
    let lowerBound = 0;
    let lowerCount = 0;
    for (const bound of bounds) {
      const cumulative = buckets.get(bound) ?? 0;
      if (cumulative >= rank) {
        if (bound === Infinity) return lowerBound * 1000;
        const width = cumulative - lowerCount;
        return (lowerBound + (bound - lowerBound) * (width > 0 ? (rank - lowerCount) / width : 1)) * 1000;
      }
      lowerBound = bound;
      lowerCount = cumulative;
    }
    return lowerBound * 1000;
  };
  return { count: total, p50Ms: quantile(0.5), p95Ms: quantile(0.95), p99Ms: quantile(0.99), within150ms: (buckets.get(0.15) ?? 0) / total };
}
