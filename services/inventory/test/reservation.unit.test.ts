import { describe, expect, it } from 'vitest';
import { keepsTakenUnits, mergeLines, onOrderCancelled, onOrderConfirmed } from '../src/domain/reservation';

describe('reservation decisions', () => {
  it('when an order lists a product twice, then the lines merge into one, sorted by product', () => {
    expect(
      mergeLines([
        { productId: 'b', quantity: 1 },
        { productId: 'a', quantity: 2 },
        { productId: 'b', quantity: 3 },
      ]),
    ).toEqual([
      { productId: 'a', quantity: 2 },
      { productId: 'b', quantity: 4 },
    ]);
  });

  it('when an order is cancelled, then only a RESERVED reservation is released', () => {
    expect(onOrderCancelled('RESERVED')).toBe('release');
    expect(onOrderCancelled(undefined)).toBe('mark-cancelled');
    expect(onOrderCancelled('PENDING')).toBe('mark-cancelled');
    for (const status of ['REJECTED', 'COMMITTED', 'RELEASED', 'CANCELLED'] as const) expect(onOrderCancelled(status)).toBe('nothing');
  });

  it('when an order is confirmed, then only a RESERVED reservation is committed', () => {
    expect(onOrderConfirmed('RESERVED')).toBe('commit');
    expect(onOrderConfirmed('RELEASED')).toBe('nothing');
    expect(onOrderConfirmed(undefined)).toBe('nothing');
  });

  it('when the order is decided RESERVED (by this delivery or an earlier one), then the units it holds stay held', () => {
    expect(keepsTakenUnits('RESERVED')).toBe(true);
  });

  it('when the order is decided otherwise (rejected here, or decided differently before), then its units are given back', () => {
    for (const status of ['PENDING', 'REJECTED', 'COMMITTED', 'RELEASED', 'CANCELLED'] as const) expect(keepsTakenUnits(status)).toBe(false);
  });
});
