import { describe, expect, it } from 'vitest';
import { cancel, confirm, MAX_TOTAL_CENTS, place, priceLines, replay, type OrderEvent } from '../src/domain/order';

const catalog = new Map([
  ['mug', { id: 'mug', name: 'Mug', priceCents: 1_250 }],
  ['kettle', { id: 'kettle', name: 'Kettle', priceCents: 4_999 }],
]);

describe('pricing', () => {
  it('when every product is known, then lines carry catalog names and prices and the total is exact', () => {
    const priced = priceLines(
      [
        { productId: 'mug', quantity: 3 },
        { productId: 'kettle', quantity: 1 },
      ],
      catalog,
    );
    expect(priced).toEqual({
      items: [
        { productId: 'mug', name: 'Mug', quantity: 3, unitPriceCents: 1_250 },
        { productId: 'kettle', name: 'Kettle', quantity: 1, unitPriceCents: 4_999 },
      ],
      totalCents: 8_749,
    });
  });

  it('when a product is unknown, then pricing names it', () => {
    expect(priceLines([{ productId: 'nope', quantity: 1 }], catalog)).toEqual({ error: 'UNKNOWN_PRODUCT', productId: 'nope' });
  });

  it('when the total exceeds the limit, then pricing refuses', () => {
    const pricey = new Map([['gold', { id: 'gold', name: 'Gold', priceCents: MAX_TOTAL_CENTS }]]);
    expect(priceLines([{ productId: 'gold', quantity: 2 }], pricey)).toEqual({ error: 'TOTAL_TOO_LARGE' });
  });
});

describe('saga state transitions', () => {
  const placed = place({
    orderId: 'o1',
    userId: 'u1',
    items: [{ productId: 'mug', name: 'Mug', quantity: 1, unitPriceCents: 1_250 }],
    totalCents: 1_250,
    paymentTokenSealed: 'sealed-for-payment',
  });

  it('when an order is placed, then it is PENDING at version 1', () => {
    expect(replay(placed)).toMatchObject({ id: 'o1', status: 'PENDING', version: 1, totalCents: 1_250 });
  });

  it('when payment succeeds, then a pending order is confirmed once; a second confirmation does nothing', () => {
    const state = replay(placed);
    if (!state) throw new Error('no state');
    const confirmed = confirm(state);
    expect(confirmed).toEqual([{ type: 'orders.confirmed', data: { orderId: 'o1', userId: 'u1', totalCents: 1_250 } }]);
    const after = replay([...placed, ...confirmed]);
    if (!after) throw new Error('no state');
    expect(after.status).toBe('CONFIRMED');
    expect(after.version).toBe(2);
    expect(confirm(after)).toEqual([]);
    expect(cancel(after, 'PAYMENT_DECLINED')).toEqual([]);
  });

  it('when payment is declined, then the order is cancelled with the reason and cannot be confirmed later', () => {
    const state = replay(placed);
    if (!state) throw new Error('no state');
    const events: OrderEvent[] = [...placed, ...cancel(state, 'PAYMENT_DECLINED')];
    const after = replay(events);
    expect(after).toMatchObject({ status: 'CANCELLED', reason: 'PAYMENT_DECLINED' });
    if (!after) throw new Error('no state');
    expect(confirm(after)).toEqual([]);
  });

  it('when an order is placed, then the decision is one orders.placed carrying the priced lines and the sealed payment token', () => {
    expect(placed).toEqual([
      {
        type: 'orders.placed',
        data: {
          orderId: 'o1',
          userId: 'u1',
          items: [{ productId: 'mug', name: 'Mug', quantity: 1, unitPriceCents: 1_250 }],
          totalCents: 1_250,
          paymentTokenSealed: 'sealed-for-payment',
        },
      },
    ]);
  });

  it.each(['OUT_OF_STOCK', 'SAGA_TIMEOUT'] as const)('when a pending order is cancelled for %s, then orders.cancelled carries that reason', (reason) => {
    const state = replay(placed);
    if (!state) throw new Error('no state');
    expect(cancel(state, reason)).toEqual([{ type: 'orders.cancelled', data: { orderId: 'o1', userId: 'u1', reason } }]);
  });

  it('when a cancelled order is cancelled again (a redelivery, or the sweeper after a decline), then nothing is decided', () => {
    const state = replay(placed);
    if (!state) throw new Error('no state');
    const after = replay([...placed, ...cancel(state, 'OUT_OF_STOCK')]);
    if (!after) throw new Error('no state');
    expect(cancel(after, 'SAGA_TIMEOUT')).toEqual([]);
    expect(after).toMatchObject({ status: 'CANCELLED', reason: 'OUT_OF_STOCK', version: 2 });
  });

  it('when an order has no events, then there is no order to decide on', () => {
    expect(replay([])).toBeUndefined();
  });
});
