import { describe, expect, it } from 'vitest';
import { backoffDelay, cancellableTimeout, LruCache, retry, TokenBucketLimiter } from '@tracemart/platform';

const sequence = (...values: number[]) => {
  let i = 0;
  return () => values[i++ % values.length] as number;
};

describe('backoff with full jitter', () => {
  it('when the random source is near 1, then delays double per attempt up to the cap', () => {
    const delays = [0, 1, 2, 3, 4, 5].map((attempt) => backoffDelay(attempt, { baseMs: 100, maxMs: 1_000 }, () => 0.999));
    expect(delays).toEqual([99, 199, 399, 799, 999, 999]);
  });

  it('when the random source varies, then each delay is that share of the attempt ceiling (jitter)', () => {
    const random = sequence(0.5, 0.1, 0.9);
    expect(backoffDelay(0, { baseMs: 100, maxMs: 10_000 }, random)).toBe(50);
    expect(backoffDelay(1, { baseMs: 100, maxMs: 10_000 }, random)).toBe(20);
    expect(backoffDelay(2, { baseMs: 100, maxMs: 10_000 }, random)).toBe(360);
    expect(backoffDelay(3, { baseMs: 100, maxMs: 10_000 }, () => 0)).toBe(0);
  });
});

describe('retry', () => {
  it('when every attempt fails, then it waits growing jittered delays between attempts and rethrows the last error', async () => {
    const waits: number[] = [];
    let calls = 0;
    const failing = retry(
      async () => {
        calls++;
        throw new Error(`fail ${calls}`);
      },
      { attempts: 4, baseMs: 100, maxMs: 10_000, shouldRetry: () => true, random: () => 0.75, wait: async (ms) => void waits.push(ms) },
    );
    await expect(failing).rejects.toThrow('fail 4');
    expect(calls).toBe(4);
    expect(waits).toEqual([75, 150, 300]);
  });

  it('when the next wait would pass the deadline, then it stops early', async () => {
    let now = 0;
    let calls = 0;
    const failing = retry(
      async () => {
        calls++;
        now += 100;
        throw new Error('down');
      },
      { attempts: 10, baseMs: 100, maxMs: 10_000, deadline: 500, shouldRetry: () => true, random: () => 0.999, now: () => now, wait: async (ms) => void (now += ms) },
    );
    await expect(failing).rejects.toThrow('down');
    // call 100, wait 99, call 100, wait 199 (= 498), call 100 (= 598): the next wait would end past 500.
    expect(calls).toBe(3);
    expect(now).toBe(598);
  });

  it('when the error is not retryable, then there is one attempt only', async () => {
    let calls = 0;
    const failing = retry(
      async () => {
        calls++;
        throw new Error('bad request');
      },
      { attempts: 5, baseMs: 1, maxMs: 1, shouldRetry: () => false },
    );
    await expect(failing).rejects.toThrow('bad request');
    expect(calls).toBe(1);
  });
});

describe('token bucket', () => {
  it('when a key spends its burst, then it is refused with a Retry-After until tokens refill; other keys are unaffected', () => {
    let now = 0;
    const limiter = new TokenBucketLimiter({ ratePerSecond: 2, burst: 3, now: () => now });
    expect([1, 2, 3].map(() => limiter.take('a').allowed)).toEqual([true, true, true]);
    expect(limiter.take('a')).toEqual({ allowed: false, retryAfterSeconds: 1 });
    expect(limiter.take('b').allowed).toBe(true);
    now += 500;
    expect(limiter.take('a').allowed).toBe(true);
    expect(limiter.take('a').allowed).toBe(false);
  });
});

describe('LRU cache', () => {
  it('when full, then the least recently used entry is forgotten', () => {
    const cache = new LruCache<string, number>(2);
    cache.set('a', 1);
    cache.set('b', 2);
    cache.get('a');
    cache.set('c', 3);
    expect([cache.get('a'), cache.get('b'), cache.get('c')]).toEqual([1, undefined, 3]);
  });
});

describe('cancellable timeout', () => {
  it('when the time passes, then the signal aborts with a TimeoutError, as AbortSignal.timeout does', async () => {
    const { signal } = cancellableTimeout(20);
    expect(signal.aborted).toBe(false);
    await new Promise((r) => setTimeout(r, 60));
    expect(signal.aborted).toBe(true);
    expect((signal.reason as Error).name).toBe('TimeoutError');
  });

  it('when cleared before the time passes, then it never aborts', async () => {
    const timeout = cancellableTimeout(20);
    timeout.clear();
    await new Promise((r) => setTimeout(r, 60));
    expect(timeout.signal.aborted).toBe(false);
  });
});
