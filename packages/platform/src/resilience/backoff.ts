import { setTimeout as sleep } from 'node:timers/promises';

export interface BackoffOptions {
  /** Delay cap for the first retry; doubles per attempt. */
  baseMs: number;
  /** No delay ever exceeds this. */
  maxMs: number;
}

/**
 * Exponential backoff with full jitter (AWS Architecture Blog, "Exponential Backoff And Jitter"): a delay
 * drawn uniformly from [0, min(max, base * 2^attempt)). Jitter spreads the retries of many callers that
 * failed together, so they do not hit a recovering dependency in lockstep. `attempt` counts from 0.
 */
export function backoffDelay(attempt: number, options: BackoffOptions, random: () => number = Math.random): number {
  const ceiling = Math.min(options.maxMs, options.baseMs * 2 ** Math.max(0, attempt));
  return Math.floor(random() * ceiling);
}

export interface RetryOptions extends BackoffOptions {
  /** Total attempts, the first included. */
  attempts: number;
  /** Epoch ms after which no further attempt starts (the caller's overall deadline). */
  deadline?: number;
  /** Whether this error is worth another attempt (transient), given the attempt that just failed (0-based). */
  shouldRetry: (err: unknown, attempt: number) => boolean;
  /** Called before each retry's wait, e.g. to count it. */
  onRetry?: (err: unknown, attempt: number, delayMs: number) => void;
  random?: () => number;
  now?: () => number;
  wait?: (ms: number) => Promise<unknown>;
}

/**
 * Runs `fn` until it succeeds, the error is not retryable, the attempts run out, or the next attempt could
 * not start before the deadline; then rethrows the last error.
 */
export async function retry<T>(fn: (attempt: number) => Promise<T>, options: RetryOptions): Promise<T> {
  const now = options.now ?? Date.now;
  const wait = options.wait ?? ((ms: number) => sleep(ms));
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      if (attempt + 1 >= options.attempts || !options.shouldRetry(err, attempt)) throw err;
      const delayMs = backoffDelay(attempt, options, options.random);
      if (options.deadline !== undefined && now() + delayMs >= options.deadline) throw err;
      options.onRetry?.(err, attempt, delayMs);
      await wait(delayMs);
    }
  }
}
