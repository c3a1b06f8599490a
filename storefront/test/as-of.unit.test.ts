import { describe, expect, it } from 'vitest';
import { describeOffset, eventsUpTo, instantAt, offsetOf, sliderMax, timeScale } from '../src/lib/as-of';

const events = [
  { type: 'orders.placed', occurredAt: '2026-12-02T01:00:00.100Z' },
  { type: 'orders.confirmed', occurredAt: '2026-12-02T01:00:00.345Z' },
];

describe('asOf slider', () => {
  it('when an order has events, then the slider spans first to last in ms', () => {
    const scale = timeScale(events.map((e) => e.occurredAt));
    expect(scale).toBeDefined();
    expect(sliderMax(scale!)).toBe(245);
  });

  it('when the slider is at 0, then the instant is the placing and only orders.placed had happened (PENDING)', () => {
    const scale = timeScale(events.map((e) => e.occurredAt))!;
    const instant = instantAt(scale, 0);
    expect(instant).toBe('2026-12-02T01:00:00.100Z');
    expect(eventsUpTo(events, instant).map((e) => e.type)).toEqual(['orders.placed']);
    expect(eventsUpTo(events, instantAt(scale, 244)).map((e) => e.type)).toEqual(['orders.placed']);
    expect(eventsUpTo(events, instantAt(scale, 245)).map((e) => e.type)).toEqual(['orders.placed', 'orders.confirmed']);
  });

  it('when positions are out of range, then they are clamped, and offsetOf inverts instantAt', () => {
    const scale = timeScale(events.map((e) => e.occurredAt))!;
    expect(instantAt(scale, -50)).toBe(instantAt(scale, 0));
    expect(instantAt(scale, 10_000)).toBe('2026-12-02T01:00:00.345Z');
    for (const offset of [0, 1, 120, 245]) expect(offsetOf(scale, instantAt(scale, offset))).toBe(offset);
    expect(offsetOf(scale, 'nonsense')).toBe(245);
  });

  it('when there are no valid times, then there is no scale; a single event gives a zero-width one', () => {
    expect(timeScale([])).toBeUndefined();
    expect(timeScale(['x'])).toBeUndefined();
    expect(sliderMax(timeScale(['2026-12-02T01:00:00.100Z'])!)).toBe(0);
  });

  it('when describing an offset, then ms below a second, seconds above', () => {
    expect(describeOffset(245)).toBe('+245 ms');
    expect(describeOffset(1_250)).toBe('+1.25 s');
  });
});
