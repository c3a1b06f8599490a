import { systemClock, type Clock } from '../clock';
import { AppError } from '../errors';

export interface FailureThrottleOptions {
  /** Failures allowed before any wait (within `forgetAfterMs` of each other). */
  freeFailures: number;
  /** The first wait; each further failure doubles it, up to `maxDelayMs`. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** A key with no failure for this long starts over. */
  forgetAfterMs: number;
  /** Keys remembered at most (oldest forgotten first), so a flood of keys cannot grow memory without bound. */
  maxKeys?: number;
  /** The error code of the 429 that `assertAllowed` throws. */
  code?: string;
  clock?: Clock;
}

/** How long a key with `failures` consecutive failures must wait after its last one (0: none). */
export function throttleDelayMs(failures: number, options: Pick<FailureThrottleOptions, 'freeFailures' | 'baseDelayMs' | 'maxDelayMs'>): number {
  const over = failures - options.freeFailures;
  if (over < 0) return 0;
  return Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** Math.min(over, 30));
}

/**
 * Exponential delay after repeated failures per key (an account, a client address): brute-force protection for
 * log-in. `check` says whether an attempt may go ahead now; `failed`/`succeeded` record its outcome.
 */
export class FailureThrottle {
  private readonly entries = new Map<string, { failures: number; lastAt: number }>();
  private readonly clock: Clock;

  constructor(private readonly options: FailureThrottleOptions) {
    this.clock = options.clock ?? systemClock;
  }

  check(key: string): { allowed: true } | { allowed: false; retryAfterSeconds: number } {
    const entry = this.current(key);
    if (!entry) return { allowed: true };
    const waitMs = entry.lastAt + throttleDelayMs(entry.failures, this.options) - this.clock.now();
    return waitMs <= 0 ? { allowed: true } : { allowed: false, retryAfterSeconds: Math.ceil(waitMs / 1000) };
  }

  /** Throws a 429 (with Retry-After) when `key` must still wait. */
  assertAllowed(key: string): void {
    const verdict = this.check(key);
    if (!verdict.allowed)
      throw new AppError('too_many_requests', this.options.code ?? 'TOO_MANY_FAILURES', 'too many failed attempts; try again later', {
        retryAfterSeconds: verdict.retryAfterSeconds,
      });
  }

  failed(key: string): void {
    const failures = (this.current(key)?.failures ?? 0) + 1;
    this.entries.delete(key);
    this.entries.set(key, { failures, lastAt: this.clock.now() });
    if (this.entries.size > (this.options.maxKeys ?? 100_000)) this.entries.delete(this.entries.keys().next().value ?? '');
  }

  succeeded(key: string): void {
    this.entries.delete(key);
  }

  private current(key: string): { failures: number; lastAt: number } | undefined {
    const entry = this.entries.get(key);
    if (entry && this.clock.now() - entry.lastAt > this.options.forgetAfterMs) {
      this.entries.delete(key);
      return undefined;
    }
    return entry;
  }
}

const MINUTE = 60_000;
/** Log-in attempts per account (the user service): 5 free failures, then 1 s doubling up to 15 min. */
export const LOGIN_THROTTLE_PER_ACCOUNT = { freeFailures: 5, baseDelayMs: 1_000, maxDelayMs: 15 * MINUTE, forgetAfterMs: 15 * MINUTE, code: 'AUTH.TOO_MANY_ATTEMPTS' };
/** Log-in attempts per client address (the gateway): more free failures, since many people may share an address. */
export const LOGIN_THROTTLE_PER_ADDRESS = { ...LOGIN_THROTTLE_PER_ACCOUNT, freeFailures: 20 };
