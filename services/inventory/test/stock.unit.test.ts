import { describe, expect, it } from 'vitest';
import { nextStock, seedStock } from '../src/domain/stock';

const head = { available: 3, reserved: 2, sold: 5 };

describe('stock changes', () => {
  it('when a product is seeded, then all its units are available', () => {
    expect(seedStock(10)).toEqual({ available: 10, reserved: 0, sold: 0 });
    expect(seedStock(0)).toEqual({ available: 0, reserved: 0, sold: 0 });
    expect(() => seedStock(-1)).toThrow();
  });

  it('when an order takes no more than is available, then the units move from available to reserved', () => {
    expect(nextStock(head, 'take', 3)).toEqual({ available: 0, reserved: 5, sold: 5 });
    expect(nextStock(head, 'take', 1)).toEqual({ available: 2, reserved: 3, sold: 5 });
  });

  it('when an order takes more than is available, then the take is refused', () => {
    expect(nextStock(head, 'take', 4)).toBeNull();
    expect(nextStock({ available: 0, reserved: 0, sold: 0 }, 'take', 1)).toBeNull();
  });

  it('when held units are given back, then they move from reserved to available', () => {
    expect(nextStock(head, 'give-back', 2)).toEqual({ available: 5, reserved: 0, sold: 5 });
  });

  it('when held units are committed, then they move from reserved to sold', () => {
    expect(nextStock(head, 'commit', 2)).toEqual({ available: 3, reserved: 0, sold: 7 });
  });

  it('when more units are given back or committed than are reserved, then the change is refused', () => {
    expect(nextStock(head, 'give-back', 3)).toBeNull();
    expect(nextStock(head, 'commit', 3)).toBeNull();
  });

  it('when a change moves no units, a fraction or a negative number, then it is an error', () => {
    for (const quantity of [0, -1, 1.5, Number.NaN]) expect(() => nextStock(head, 'take', quantity)).toThrow();
  });

  it('when any sequence of changes applies, then available + reserved + sold stays the initial stock and none is negative', () => {
    let totals = seedStock(7);
    const kinds = ['take', 'take', 'commit', 'give-back', 'take', 'take', 'take', 'commit', 'give-back'] as const;
    for (const [index, kind] of kinds.entries()) {
      const next = nextStock(totals, kind, 1 + (index % 3));
      if (!next) continue;
      totals = next;
      expect(totals.available + totals.reserved + totals.sold).toBe(7);
      expect(Math.min(totals.available, totals.reserved, totals.sold)).toBeGreaterThanOrEqual(0);
    }
    expect(totals).not.toEqual(seedStock(7));
  });
});
