import { randomUUID } from 'node:crypto';
import { context, propagation } from '@opentelemetry/api';
import type { EventEnvelope, TraceCarrier } from '@tracemart/contracts';

export type { EventEnvelope, TraceCarrier };

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
