import { isAppError } from '../errors';
import type { HandlerResult } from './consumer-spec';
import type { Backoff } from './defaults';
import type { Claim } from './processed';

/** How far one delivery got, and what it found there. */
export type Observed =
  /** The body is not JSON, or `decode` rejected it. */
  | { step: 'decode'; error: unknown }
  /** The event's type is not one the consumer handles. */
  | { step: 'filter' }
  /** The idempotency claim found the event applied already (done) or being applied right now (busy). */
  | { step: 'claim'; claim: Exclude<Claim, 'claimed'> }
  /** The handler ran and said what to do. */
  | { step: 'handler'; result: HandlerResult }
  /** Claiming, handling or recording the event threw. */
  | { step: 'failed'; error: unknown };

export interface Delivery {
  /** The delivery count: 1 on the first delivery. */
  attempt: number;
  maxDeliver: number;
  backoffMs: Backoff;
}

/** The `outcome` attribute of `tracemart.messaging.consumed` and `tracemart.messaging.process.duration`. */
export type MetricOutcome = 'ack' | 'nak' | 'term' | 'duplicate' | 'ignored';

/** What to tell JetStream about the message; `term` is dead-lettered with `reason` first. */
export type Settlement =
  | { action: 'ack'; metricOutcome: 'ack' | 'duplicate' | 'ignored' }
  | { action: 'nak'; delayMs: number; metricOutcome: 'nak' }
  | { action: 'term'; reason: string; metricOutcome: 'term' };

const ack = (metricOutcome: 'ack' | 'duplicate' | 'ignored'): Settlement => ({ action: 'ack', metricOutcome });
const nak = (delayMs: number): Settlement => ({ action: 'nak', delayMs, metricOutcome: 'nak' });
const term = (reason: string): Settlement => ({ action: 'term', reason, metricOutcome: 'term' });

const messageOf = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/** A failure that no retry can fix: an expected (operational) error other than a dependency being unavailable. */
const isPermanent = (err: unknown): boolean => isAppError(err) && err.operational && err.kind !== 'unavailable';

/** The nak delay for a failed attempt: one backoff entry per attempt, the last one repeating. */
const retryDelay = ({ attempt, backoffMs }: Delivery): number => backoffMs[Math.min(Math.max(attempt, 1), backoffMs.length) - 1] ?? backoffMs[0];

/**
 * Ack, nak (with a delay) or term one delivery: invalid messages and permanent failures are termed at once,
 * transient ones come back after a growing delay until `maxDeliver` attempts, then they are termed too.
 */
export function settle(input: Observed & Delivery): Settlement {
  switch (input.step) {
    case 'decode':
      return term(`invalid message: ${messageOf(input.error)}`);
    case 'filter':
      return ack('ignored');
    case 'claim':
      return input.claim === 'done' ? ack('duplicate') : nak(input.backoffMs[0]);
    case 'handler':
      if (input.result === 'ack') return ack('ack');
      if (input.result === 'term') return term('terminated by handler');
      return input.attempt >= input.maxDeliver ? term(`gave up after ${input.attempt} attempts`) : nak(input.result.nakDelayMs);
    case 'failed':
      return isPermanent(input.error) || input.attempt >= input.maxDeliver ? term(messageOf(input.error)) : nak(retryDelay(input));
  }
}
