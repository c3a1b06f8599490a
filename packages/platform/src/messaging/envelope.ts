import { randomUUID } from 'node:crypto';
import { context, propagation } from '@opentelemetry/api';

/** W3C trace context as stored with an event, so a relay publishing later continues the same trace. */
export type TraceCarrier = Record<string, string>;

/** What every event on the bus looks like. `data` is validated against the contract for `type`. */
export interface EventEnvelope<T = unknown> {
  id: string;
  type: string;
  schemaVersion: number;
  occurredAt: string;
  source: string;
  /** Correlates every event of one order saga. */
  correlationId: string;
  data: T;
  trace?: TraceCarrier;
}

/** Builds an envelope in the current trace context (captured now, used when the event is published). */
export function newEnvelope<T>(type: string, data: T, meta: { source: string; correlationId: string; schemaVersion?: number; now?: Date }): EventEnvelope<T> {
  const trace: TraceCarrier = {};
  propagation.inject(context.active(), trace);
  return {
    id: randomUUID(),
    type,
    schemaVersion: meta.schemaVersion ?? 1,
    occurredAt: (meta.now ?? new Date()).toISOString(),
    source: meta.source,
    correlationId: meta.correlationId,
    data,
    ...(Object.keys(trace).length > 0 ? { trace } : {}),
  };
}
