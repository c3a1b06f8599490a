/** W3C trace context as stored with an event, so a relay publishing later continues the same trace. */
export type TraceCarrier = Record<string, string>;

/** What every event on the bus looks like (the wire format). `data` is validated against the contract for `type`. */
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
