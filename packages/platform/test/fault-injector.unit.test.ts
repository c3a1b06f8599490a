import { afterEach, describe, expect, it } from 'vitest';
import pino from 'pino';
import { ManualClock } from '@tracemart/testing';
import { FaultInjector } from '../src/faults/injector';

const injectors: FaultInjector[] = [];
afterEach(() => {
  for (const injector of injectors.splice(0)) injector.dispose();
});

/** An injector on a manual clock, with its log lines (messages) recorded. */
function injectorAt(clock: ManualClock, random: () => number = () => 0) {
  const logged: string[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void logged.push((JSON.parse(line) as { msg: string }).msg) });
  const injector = new FaultInjector('test', logger, random, clock);
  injectors.push(injector);
  return { injector, logged };
}

describe('fault expiry', () => {
  it('when a fault is injected, then it is stamped with the clock and expires after its duration', () => {
    const clock = new ManualClock(Date.parse('2026-03-01T12:00:00.000Z'));
    const { injector } = injectorAt(clock);
    const fault = injector.inject({ kind: 'outage', durationSeconds: 30 });
    expect(fault).toMatchObject({ service: 'test', kind: 'outage', createdAt: '2026-03-01T12:00:00.000Z', expiresAt: '2026-03-01T12:00:30.000Z' });
  });

  it('when less than its duration has passed, then the fault still applies', () => {
    const clock = new ManualClock();
    const { injector } = injectorAt(clock);
    injector.inject({ kind: 'outage', durationSeconds: 5 });
    clock.advance(4_999);
    expect(injector.list()).toHaveLength(1);
    expect(injector.effectFor('/api/products')).toEqual({ delayMs: 0, fail: 'outage' });
  });

  it('when its duration has passed, then the fault no longer applies or lists, and its expiry is logged once', () => {
    const clock = new ManualClock();
    const { injector, logged } = injectorAt(clock);
    const fault = injector.inject({ kind: 'latency', latencyMs: 200, durationSeconds: 5 });
    clock.advance(5_000);
    expect(injector.effectFor('/api/products')).toBeUndefined();
    expect(injector.list()).toEqual([]);
    expect(injector.clear(fault.id)).toBe(false);
    expect(logged.filter((msg) => msg === 'fault expired')).toHaveLength(1);
    expect(logged).not.toContain('fault cleared');
  });

  it('when faults of different durations are active, then each expires at its own time', () => {
    const clock = new ManualClock();
    const { injector } = injectorAt(clock);
    injector.inject({ kind: 'latency', latencyMs: 100, durationSeconds: 1 });
    injector.inject({ kind: 'latency', latencyMs: 50, durationSeconds: 10 });
    expect(injector.effectFor('/')).toEqual({ delayMs: 150 });
    clock.advance(1_000);
    expect(injector.effectFor('/')).toEqual({ delayMs: 50 });
    clock.advance(9_000);
    expect(injector.effectFor('/')).toBeUndefined();
  });

  it('when a fault is cleared before it expires, then it is gone and clearing it again finds nothing', () => {
    const clock = new ManualClock();
    const { injector, logged } = injectorAt(clock);
    const fault = injector.inject({ kind: 'outage', durationSeconds: 60 });
    expect(injector.clear(fault.id)).toBe(true);
    expect(injector.clear(fault.id)).toBe(false);
    expect(injector.list()).toEqual([]);
    expect(logged).toEqual(['fault injected', 'fault cleared']);
  });
});

describe('fault effects', () => {
  it('when a fault names a route, then only paths under it are affected', () => {
    const { injector } = injectorAt(new ManualClock());
    injector.inject({ kind: 'outage', durationSeconds: 60, route: '/processor' });
    expect(injector.effectFor('/processor/charge')).toEqual({ delayMs: 0, fail: 'outage' });
    expect(injector.effectFor('/payments/health')).toBeUndefined();
  });

  it('when an outage and an error fault are both active, then the outage wins and latency still adds', () => {
    const { injector } = injectorAt(new ManualClock());
    injector.inject({ kind: 'error', errorRate: 1, durationSeconds: 60 });
    injector.inject({ kind: 'outage', durationSeconds: 60 });
    injector.inject({ kind: 'latency', latencyMs: 30, durationSeconds: 60 });
    expect(injector.effectFor('/')).toEqual({ delayMs: 30, fail: 'outage' });
  });

  it('when an error fault has a rate, then a request fails only when the draw falls below it', () => {
    let draw = 0.2;
    const { injector } = injectorAt(new ManualClock(), () => draw);
    injector.inject({ kind: 'error', errorRate: 0.5, durationSeconds: 60 });
    expect(injector.effectFor('/')).toEqual({ delayMs: 0, fail: 'error' });
    draw = 0.7;
    expect(injector.effectFor('/')).toBeUndefined();
  });
});
