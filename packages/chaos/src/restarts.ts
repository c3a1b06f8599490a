/** `tracemart_process_restarts_total{process="order"} 2` lines of the stack's /metrics, by process. */
export function parseRestarts(exposition: string): Record<string, number> {
  const restarts: Record<string, number> = {};
  for (const line of exposition.split('\n')) {
    const match = /^tracemart_process_restarts_total\{(?:[^}]*,)?process="([^"]+)"[^}]*\}\s+(\S+)/.exec(line);
    if (match?.[1] && Number.isFinite(Number(match[2]))) restarts[match[1]] = Number(match[2]);
  }
  return restarts;
}

/** The supervisor's restarts so far, from the stack's own /metrics; undefined when it does not answer. */
export async function processRestarts(metricsUrl: string): Promise<Record<string, number> | undefined> {
  try {
    const res = await fetch(`${metricsUrl}/metrics`, { signal: AbortSignal.timeout(2_000) });
    return res.ok ? parseRestarts(await res.text()) : undefined;
  } catch {
    return undefined;
  }
}

/** Restarts between two readings, only the processes that had any. */
export function restartsBetween(before: Record<string, number> | undefined, after: Record<string, number> | undefined): Record<string, number> {
  if (!before || !after) return {};
  return Object.fromEntries(Object.entries(after).flatMap(([name, n]) => (n - (before[name] ?? 0) > 0 ? [[name, n - (before[name] ?? 0)]] : [])));
}
