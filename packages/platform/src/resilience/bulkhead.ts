import { AppError } from '../errors';

export interface BulkheadOptions {
  name: string;
  /** Calls running at once. */
  maxConcurrent: number;
  /** Calls waiting for a slot; beyond this, calls are rejected at once. */
  maxQueue: number;
  /** Seconds a rejected caller is told to wait (Retry-After). */
  retryAfterSeconds?: number;
  onReject?: () => void;
}

/**
 * Bounded concurrency plus a bounded queue for one dependency, so that a slow dependency holds at most
 * `maxConcurrent + maxQueue` requests and cannot take every socket and every request slot of the caller.
 * A full bulkhead rejects with a 503 carrying Retry-After (`DEPENDENCY.BULKHEAD_FULL`).
 */
export class Bulkhead {
  private running = 0;
  private readonly waiting: { resolve: () => void; reject: (err: unknown) => void }[] = [];

  constructor(private readonly options: BulkheadOptions) {}

  get active(): number {
    return this.running;
  }

  get queued(): number {
    return this.waiting.length;
  }

  async run<T>(fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    await this.acquire(signal);
    try {
      return await fn();
    } finally {
      this.release();
    }
  }

  private acquire(signal?: AbortSignal): Promise<void> {
    if (this.running < this.options.maxConcurrent) {
      this.running++;
      return Promise.resolve();
    }
    if (this.waiting.length >= this.options.maxQueue) {
      this.options.onReject?.();
      return Promise.reject(
        new AppError('unavailable', 'DEPENDENCY.BULKHEAD_FULL', `${this.options.name} is at capacity`, {
          retryAfterSeconds: this.options.retryAfterSeconds ?? 1,
          details: { dependency: this.options.name },
        }),
      );
    }
    return new Promise<void>((resolve, reject) => {
      const entry = {
        resolve: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
        reject,
      };
      const onAbort = () => {
        const index = this.waiting.indexOf(entry);
        if (index >= 0) this.waiting.splice(index, 1);
        reject(signal?.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiting.push(entry);
    });
  }

  private release(): void {
    const next = this.waiting.shift();
    // The slot passes straight to the next waiter, so `running` stays the same.
    if (next) next.resolve();
    else this.running--;
  }
}
