/**
 * Where a saga's time goes, read from its trace: from the order service receiving POST /orders to the end
 * of its handling of `payments.charged` (the moment the order is CONFIRMED and `tracemart_saga_duration`
 * is recorded). Only the causal path counts: the chain of spans leading to that end, plus everything
 * they did inside themselves; branches that other consumers started (the read-model projector, the
 * notification) are left out. Each instant of the saga is charged to one category, most specific first.
 * Database calls are also counted over the whole trace (every service, those branches and whatever ran
 * after the confirmation included), in all and per service.
 */

export interface TraceSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string | undefined;
  name: string;
  /** OTLP SpanKind: 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  kind: number;
  service: string;
  startMs: number;
  endMs: number;
  attributes: Record<string, unknown>;
}

export const SAGA_CATEGORIES = [
  'database (FerretDB)',
  'card processor (simulated)',
  'HTTP calls between services',
  'service code',
  'between spans (outbox relay, NATS delivery, queueing)',
] as const;
export type SagaCategory = (typeof SAGA_CATEGORIES)[number];

export interface SagaBreakdown {
  traceId: string;
  sagaMs: number;
  ms: Record<SagaCategory, number>;
  /** Database calls on the causal path. */
  dbCalls: number;
  /** Database calls anywhere in the trace: every service, projections and notification included. */
  dbCallsInTrace: number;
  /** Database calls per service: in the whole trace, and on the causal path. */
  dbCallsByService: Record<string, { trace: number; path: number }>;
  /** NATS hops on the causal path (consumer spans). */
  hops: number;
}

const SERVER = 2;
const CLIENT = 3;
const CONSUMER = 5;

const isDb = (s: TraceSpan) => s.attributes['db.system'] === 'mongodb' || s.attributes['db.system.name'] === 'mongodb';
const isProcessor = (s: TraceSpan) => s.name === 'charge card';
const isHttpClient = (s: TraceSpan) => s.kind === CLIENT && (s.attributes['http.request.method'] !== undefined || s.attributes['http.method'] !== undefined);

/** Database spans per service, in the whole trace and among those on the causal path. */
function dbCallsByService(trace: TraceSpan[], path: TraceSpan[]): Record<string, { trace: number; path: number }> {
  const counts: Record<string, { trace: number; path: number }> = {};
  const onPath = new Set(path.map((s) => s.spanId));
  for (const span of trace.filter(isDb)) {
    const entry = (counts[span.service] ??= { trace: 0, path: 0 });
    entry.trace += 1;
    if (onPath.has(span.spanId)) entry.path += 1;
  }
  return counts;
}

function categoryOf(active: TraceSpan[]): SagaCategory {
  if (active.some(isDb)) return 'database (FerretDB)';
  if (active.some(isProcessor)) return 'card processor (simulated)';
  if (active.some(isHttpClient)) return 'HTTP calls between services';
  if (active.length > 0) return 'service code';
  return 'between spans (outbox relay, NATS delivery, queueing)';
}

/** The saga of one trace, or undefined when the trace has no placement or no confirmation. */
export function sagaBreakdown(spans: TraceSpan[]): SagaBreakdown | undefined {
  const start = spans.find((s) => s.service === 'order' && s.kind === SERVER && (s.attributes['http.request.method'] ?? s.attributes['http.method']) === 'POST');
  const end = spans.find((s) => s.service === 'order' && s.kind === CONSUMER && s.name === 'process payments.charged');
  if (!start || !end || end.endMs <= start.startMs) return undefined;

  const byId = new Map(spans.map((s) => [s.spanId, s]));
  const chain = new Set<string>();
  for (let at: TraceSpan | undefined = end; at; at = at.parentSpanId ? byId.get(at.parentSpanId) : undefined) chain.add(at.spanId);
  // On the path: the chain, and descendants of the chain not reached through a consumer outside it.
  const onPath = new Map<string, boolean>();
  const isOnPath = (span: TraceSpan): boolean => {
    const known = onPath.get(span.spanId);
    if (known !== undefined) return known;
    let result: boolean;
    if (chain.has(span.spanId)) result = true;
    else if (span.kind === CONSUMER) result = false;
    else {
      const parent = span.parentSpanId ? byId.get(span.parentSpanId) : undefined;
      result = parent ? isOnPath(parent) : false;
    }
    onPath.set(span.spanId, result);
    return result;
  };
  const t0 = start.startMs;
  const t1 = end.endMs;
  const path = spans.filter((s) => isOnPath(s) && s.endMs > t0 && s.startMs < t1);
  // The gateway's SERVER span for the POST outlives the order's handler only by the response; it and the
  // trace root are not work of the saga.
  const working = path.filter((s) => !(s.service === 'gateway' && s.kind === SERVER));

  const cuts = [...new Set([t0, t1, ...working.flatMap((s) => [s.startMs, s.endMs])])].filter((t) => t >= t0 && t <= t1).sort((a, b) => a - b);
  const ms = Object.fromEntries(SAGA_CATEGORIES.map((c) => [c, 0])) as Record<SagaCategory, number>;
  for (let i = 0; i + 1 < cuts.length; i++) {
    const a = cuts[i] as number;
    const b = cuts[i + 1] as number;
    const mid = (a + b) / 2;
    ms[categoryOf(working.filter((s) => s.startMs <= mid && s.endMs >= mid))] += b - a;
  }
  return {
    traceId: start.traceId,
    sagaMs: t1 - t0,
    ms,
    dbCalls: path.filter(isDb).length,
    dbCallsInTrace: spans.filter(isDb).length,
    dbCallsByService: dbCallsByService(spans, path),
    hops: path.filter((s) => s.kind === CONSUMER).length,
  };
}

export interface SagaTraceStats {
  sagas: number;
  /** Median saga and the median of each category over all sagas. */
  median: { sagaMs: number; ms: Record<SagaCategory, number>; dbCalls: number; dbCallsInTrace: number; hops: number };
  /** The same over the slowest tenth of the sagas (at least one): what makes the tail. */
  slowest: { sagas: number; sagaMs: number; ms: Record<SagaCategory, number>; dbCalls: number; dbCallsInTrace: number };
  /** Per service, the median over all sagas of its database calls (0 in a trace without any), most first. */
  dbCallsByService: { service: string; trace: number; path: number }[];
}

const medianOf = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
};

function medians(list: SagaBreakdown[]) {
  return {
    sagaMs: medianOf(list.map((b) => b.sagaMs)),
    ms: Object.fromEntries(SAGA_CATEGORIES.map((c) => [c, medianOf(list.map((b) => b.ms[c]))])) as Record<SagaCategory, number>,
    dbCalls: medianOf(list.map((b) => b.dbCalls)),
    dbCallsInTrace: medianOf(list.map((b) => b.dbCallsInTrace)),
    hops: medianOf(list.map((b) => b.hops)),
  };
}

/** Per service seen in any saga, the median of its database calls per saga, whole trace and causal path. */
export function dbCallsByServiceMedians(list: SagaBreakdown[]): SagaTraceStats['dbCallsByService'] {
  const services = [...new Set(list.flatMap((b) => Object.keys(b.dbCallsByService)))];
  return services
    .map((service) => ({
      service,
      trace: medianOf(list.map((b) => b.dbCallsByService[service]?.trace ?? 0)),
      path: medianOf(list.map((b) => b.dbCallsByService[service]?.path ?? 0)),
    }))
    .sort((a, b) => b.trace - a.trace || a.service.localeCompare(b.service));
}

/** Groups spans by trace, breaks each saga down, and summarises. */
export function sagaTraceStats(spans: TraceSpan[]): SagaTraceStats | undefined {
  const byTrace = new Map<string, TraceSpan[]>();
  for (const span of spans) byTrace.set(span.traceId, [...(byTrace.get(span.traceId) ?? []), span]);
  const sagas = [...byTrace.values()].map(sagaBreakdown).filter((b): b is SagaBreakdown => b !== undefined);
  if (sagas.length === 0) return undefined;
  const slow = [...sagas].sort((a, b) => b.sagaMs - a.sagaMs).slice(0, Math.max(1, Math.round(sagas.length / 10)));
  const { hops: _hops, ...slowMedians } = medians(slow);
  return { sagas: sagas.length, median: medians(sagas), slowest: { sagas: slow.length, ...slowMedians }, dbCallsByService: dbCallsByServiceMedians(sagas) };
}
