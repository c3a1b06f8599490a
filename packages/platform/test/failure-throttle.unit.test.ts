import { describe, expect, it } from 'vitest';
import { FailureThrottle, throttleDelayMs } from '../src/resilience/failure-throttle';

const policy = { freeFailures: 3, baseDelayMs: 1_000, maxDelayMs: 8_000, forgetAfterMs: 60_000 };

function throttle() {
  let now = 0;
  const clock = { now: () => now };
  return { t: new FailureThrottle({ ...policy, clock }), advance: (ms: number) => (now += ms) };
}

describe('throttleDelayMs', () => {
  it('when failures stay within the free ones, then there is no wait; past them it doubles up to the cap', () => {
    expect([0, 1, 2].map((n) => throttleDelayMs(n, policy))).toEqual([0, 0, 0]);
    expect([3, 4, 5, 6, 7, 50].map((n) => throttleDelayMs(n, policy))).toEqual([1_000, 2_000, 4_000, 8_000, 8_000, 8_000]);
  });
});

describe('FailureThrottle', () => {
  it('when a key fails past its free attempts, then it must wait, with Retry-After rounded up, until the delay has passed', () => {
    const { t, advance } = throttle();
    for (let i = 0; i < 3; i++) {
      expect(t.check('a').allowed).toBe(true);
      t.failed('a');
    }
    expect(t.check('a')).toEqual({ allowed: false, retryAfterSeconds: 1 });
    advance(999);
    expect(t.check('a').allowed).toBe(false);
    advance(1);
    expect(t.check('a').allowed).toBe(true);
    t.failed('a');
    expect(t.check('a')).toEqual({ allowed: false, retryAfterSeconds: 2 });
    expect(t.check('b').allowed).toBe(true);
  });

  it('when the key succeeds, or stays quiet for the forget period, then it starts over', () => {
    const { t, advance } = throttle();
    for (let i = 0; i < 5; i++) t.failed('a');
    advance(60_001);
    expect(t.check('a').allowed).toBe(true);
    for (let i = 0; i < 5; i++) t.failed('b');
    t.succeeded('b');
    expect(t.check('b').allowed).toBe(true);
  });

  it('when more keys arrive than it may hold, then the oldest are forgotten', () => {
    const t = new FailureThrottle({ ...policy, freeFailures: 0, maxKeys: 2 });
    for (const key of ['a', 'b', 'c']) t.failed(key);
    expect(t.check('a').allowed).toBe(true);
    expect(t.check('c').allowed).toBe(false);
  });
});
