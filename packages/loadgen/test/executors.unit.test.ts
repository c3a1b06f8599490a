import { describe, expect, it } from 'vitest';
import { closedLoop, constantArrivalRate, sleep } from '../src';

describe('the open-model executor (constant arrival rate)', () => {
  it('when iterations are quick, then ceil(rate × duration) start, about 1/rate apart', async () => {
    const starts: number[] = [];
    const result = await constantArrivalRate({
      ratePerS: 20,
      durationS: 1,
      maxVUs: 5,
      gracefulStopS: 1,
      iteration: async () => {
        starts.push(performance.now());
        await sleep(5);
      },
    });
    expect(result).toMatchObject({ scheduled: 20, started: 20, dropped: 0, completed: 20, failed: 0 });
    const span = (starts.at(-1) ?? 0) - (starts[0] ?? 0);
    // 19 gaps of 50 ms; the machine is shared, so only the order of magnitude is asserted.
    expect(span).toBeGreaterThan(800);
    expect(span).toBeLessThan(1600);
  });

  it('when every VU is busy, then arrivals are dropped and counted, not queued', async () => {
    const result = await constantArrivalRate({ ratePerS: 20, durationS: 0.5, maxVUs: 2, gracefulStopS: 2, iteration: async ({ signal }) => sleep(1_000, signal) });
    expect(result.scheduled).toBe(10);
    expect(result.started).toBe(2);
    expect(result.dropped).toBe(8);
  });

  it('when iterations outlive the graceful stop, then they are aborted and counted as interrupted', async () => {
    const began = performance.now();
    const result = await constantArrivalRate({ ratePerS: 10, durationS: 0.2, maxVUs: 10, gracefulStopS: 0.2, iteration: async ({ signal }) => sleep(60_000, signal) });
    expect(result.interrupted).toBe(2);
    expect(performance.now() - began).toBeLessThan(5_000);
  });

  it('when an iteration throws, then the run goes on and the error is reported', async () => {
    const result = await constantArrivalRate({
      ratePerS: 10,
      durationS: 0.3,
      maxVUs: 3,
      gracefulStopS: 1,
      iteration: async ({ iteration }) => {
        if (iteration === 1) throw new Error('boom');
      },
    });
    expect(result).toMatchObject({ started: 3, completed: 2, failed: 1, errors: ['boom'] });
  });
});

describe('the closed-loop executor (constant VUs)', () => {
  it('when each iteration takes 50 ms, then each VU runs about duration/50ms iterations back to back', async () => {
    const perVu = new Map<number, number>();
    const result = await closedLoop({
      vus: 2,
      durationS: 0.5,
      gracefulStopS: 1,
      iteration: async ({ vu }) => {
        perVu.set(vu, (perVu.get(vu) ?? 0) + 1);
        await sleep(50);
      },
    });
    expect([...perVu.keys()].sort()).toEqual([1, 2]);
    expect(result.completed).toBe(result.started);
    expect(result.started).toBeGreaterThanOrEqual(6);
    expect(result.started).toBeLessThanOrEqual(22);
  });
});
