import type { ConsumerSpec } from './consumer-spec';

/** Redelivery delays of a consumer: never empty, so the first and the last delay always exist. */
export type Backoff = readonly [number, ...number[]];

/** Every default of a durable consumer, in one place. */
export const consumerDefaults = {
  /** Nak delays for transient failures, one per attempt; the last repeats. */
  backoffMs: [200, 1_000, 5_000] as Backoff,
  maxAckPending: 64,
  maxDeliver: 10,
  ackWaitMs: 30_000,
  /** Messages pulled ahead of the handlers: max ack pending, but never more than this. */
  maxBatch: 256,
  /** Handlers running at once: max ack pending, but never more than this. */
  maxConcurrency: 32,
  /** How often the backlog gauges are refreshed from the server. */
  backlogRefreshMs: 5_000,
} as const;

/** Every default of a stream, in one place. */
export const streamDefaults = {
  /** 0 keeps messages forever: replaying a read model needs the whole history. */
  maxAgeSeconds: 0,
  /** How long JetStream drops a republished msgID (outbox relay after a crash, retry after a lost ack). */
  duplicateWindowSeconds: 120,
} as const;

/** How long a publish waits for JetStream's ack. */
export const publishTimeoutMs = 5_000;

/** A consumer spec with every default filled in, plus the pull and concurrency limits derived from it. */
export type ResolvedConsumerSpec = Omit<ConsumerSpec, 'group' | 'maxAckPending' | 'maxDeliver' | 'ackWaitMs' | 'backoffMs'> & {
  group: string;
  maxAckPending: number;
  maxDeliver: number;
  ackWaitMs: number;
  backoffMs: Backoff;
  /** Messages one pull asks for. */
  batch: number;
  /** Handlers this consumer runs at once. */
  concurrency: number;
};

const nonEmpty = (delays: readonly number[] | undefined): delays is Backoff => delays !== undefined && delays.length > 0;

export function withDefaults(spec: ConsumerSpec): ResolvedConsumerSpec {
  const maxAckPending = spec.maxAckPending ?? consumerDefaults.maxAckPending;
  return {
    ...spec,
    group: spec.group ?? spec.durable,
    maxAckPending,
    maxDeliver: spec.maxDeliver ?? consumerDefaults.maxDeliver,
    ackWaitMs: spec.ackWaitMs ?? consumerDefaults.ackWaitMs,
    backoffMs: nonEmpty(spec.backoffMs) ? spec.backoffMs : consumerDefaults.backoffMs,
    batch: Math.min(maxAckPending, consumerDefaults.maxBatch),
    concurrency: Math.max(1, Math.min(maxAckPending, consumerDefaults.maxConcurrency)),
  };
}
