import type { JsMsg } from '@nats-io/jetstream';
import type { EventEnvelope } from './envelope';
import type { ProcessedEvents } from './processed';

/** What a handler decides about one message. */
export type HandlerResult = 'ack' | 'term' | { nakDelayMs: number };

export interface ConsumerSpec {
  stream: string;
  /** The consumer's name on the server. */
  durable: string;
  /**
   * The logical consumer, when several durables share one job (the partitions of a sharded consumer,
   * `order-payments-p3`): metrics, processed-event claims and dead letters use it. Default: `durable`.
   */
  group?: string;
  /** The filter subject (wildcards allowed). */
  subject: string;
  /** Several filter subjects instead of `subject` (one partition of several event types). */
  subjects?: string[];
  handler: (event: EventEnvelope, msg: JsMsg) => Promise<HandlerResult | void>;
  /** Validates and narrows the envelope; a thrown error terms the message (it can never succeed). */
  decode?: (event: EventEnvelope) => EventEnvelope;
  maxAckPending?: number;
  maxDeliver?: number;
  ackWaitMs?: number;
  /** Redelivery delays (nak with delay) for transient failures, growing per attempt. */
  backoffMs?: number[];
  /**
   * Event types the handler acts on; other types matching the subject filter are acknowledged at once,
   * without a claim or a database write. Omitted: every type.
   */
  handles?: readonly string[];
  /**
   * Records applied event ids so duplicates and redeliveries have no second effect. Leave it out for a
   * handler that is idempotent on its own (e.g. a projection guarded by applied event ids): a claim costs
   * two writes per message.
   */
  processed?: Pick<ProcessedEvents, 'claim' | 'complete' | 'release'>;
}
