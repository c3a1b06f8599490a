import CircuitBreaker from 'opossum';
import type { Logger } from 'pino';
import { getMeter } from '../telemetry/metrics';

export type BreakerState = 'closed' | 'open' | 'half-open';

export interface BreakerOptions {
  /** The dependency's name: the `upstream` attribute of the breaker metrics and log lines. */
  name: string;
  /** A call slower than this counts as a failure (opossum rejects it with ETIMEDOUT). */
  timeoutMs: number;
  /** Open when the failure percentage within the rolling window exceeds this. */
  errorThresholdPercentage: number;
  /** ...and at least this many calls happened in the window (no opening on 1 failure of 1). */
  volumeThreshold: number;
  /** Time spent open before one probe call is let through (half-open). */
  resetTimeoutMs: number;
  /** Length of the rolling statistics window. */
  rollingWindowMs?: number;
  /** Errors for which this returns true are not the dependency's fault and do not count (e.g. a 404). */
  isNeutral?: (err: unknown) => boolean;
  logger: Logger;
}

const STATE_VALUE: Record<BreakerState, number> = { closed: 0, 'half-open': 1, open: 2 };
const meter = getMeter();
/** Every breaker's state, by upstream: 0 closed, 1 half-open, 2 open. */
const stateGauge = meter.createObservableGauge('tracemart.breaker.state', { unit: '{state}', description: 'Circuit breaker state: 0 closed, 1 half-open, 2 open' });
/** State changes, by upstream and `to` (closed|open|half-open). */
const transitions = meter.createCounter('tracemart.breaker.transitions', { unit: '{transition}', description: 'Circuit breaker state transitions' });
const live = new Set<{ name: string; breaker: CircuitBreaker }>();
stateGauge.addCallback((result) => {
  for (const entry of live) result.observe(STATE_VALUE[breakerState(entry.breaker)], { upstream: entry.name });
});

export function breakerState(breaker: CircuitBreaker): BreakerState {
  if (breaker.opened) return 'open';
  if (breaker.halfOpen) return 'half-open';
  return 'closed';
}

/** Whether an error is a breaker refusing a call because it is open (or half-open with its probe out). */
export function isBreakerOpenError(err: unknown): boolean {
  return (err as { code?: unknown } | null)?.code === 'EOPENBREAKER';
}

/** Whether an error is the breaker's own call timeout. */
export function isBreakerTimeoutError(err: unknown): boolean {
  return (err as { code?: unknown } | null)?.code === 'ETIMEDOUT';
}

/**
 * An opossum circuit breaker around `action`, with the house metrics and a log line per transition.
 * Stop it with `disposeBreaker` so its timers and gauge entry go away.
 */
export function createBreaker<A extends unknown[], R>(action: (...args: A) => Promise<R>, options: BreakerOptions): CircuitBreaker<A, R> {
  const breaker = new CircuitBreaker<A, R>(action, {
    name: options.name,
    timeout: options.timeoutMs,
    errorThresholdPercentage: options.errorThresholdPercentage,
    volumeThreshold: options.volumeThreshold,
    resetTimeout: options.resetTimeoutMs,
    rollingCountTimeout: options.rollingWindowMs ?? 10_000,
    rollingCountBuckets: 10,
    ...(options.isNeutral ? { errorFilter: options.isNeutral } : {}),
  });
  const entry = { name: options.name, breaker };
  live.add(entry);
  breaker.on('shutdown', () => live.delete(entry));
  const transitioned = (to: BreakerState) => () => {
    transitions.add(1, { upstream: options.name, to });
    const log = { upstream: options.name, to, resetTimeoutMs: options.resetTimeoutMs };
    if (to === 'open') options.logger.warn(log, 'circuit breaker opened');
    else options.logger.info(log, `circuit breaker ${to === 'closed' ? 'closed' : 'half-open'}`);
  };
  breaker.on('open', transitioned('open'));
  breaker.on('halfOpen', transitioned('half-open'));
  breaker.on('close', transitioned('closed'));
  return breaker;
}

export function disposeBreaker(breaker: CircuitBreaker): void {
  breaker.shutdown();
}
