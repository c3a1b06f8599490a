import { describe, expect, it } from 'vitest';
import {
  acceptedOrdersStored,
  consumerBacklogDrained,
  deadLettersInvalidOnly,
  evaluate,
  foldOrders,
  formatReport,
  ledgerSums,
  notificationPerTerminalOrder,
  orderEventSequence,
  ordersTerminal,
  paymentInvariants,
  soldMatchesConfirmed,
  stockInvariants,
  type InvariantResult,
  type LedgerRow,
  type OrderEventRow,
} from '../src/rules';

const at = new Date('2025-01-01T00:00:00Z');
const placed = (orderId: string, totalCents: number, items = [{ productId: 'mug', quantity: 1 }]): OrderEventRow => ({
  orderId,
  version: 1,
  type: 'orders.placed',
  at,
  items,
  totalCents,
});
const confirmed = (orderId: string, version = 2): OrderEventRow => ({ orderId, version, type: 'orders.confirmed', at });
const cancelled = (orderId: string, version = 2, reason = 'PAYMENT_DECLINED'): OrderEventRow => ({ orderId, version, type: 'orders.cancelled', at, reason });
const charge = (orderId: string, amountCents: number, version = 1): LedgerRow => ({ orderId, version, type: 'charged', amountCents });
const refund = (orderId: string, amountCents: number, version = 2): LedgerRow => ({ orderId, version, type: 'refunded', amountCents });
const byName = (results: InvariantResult[], name: string) => {
  const found = results.find((r) => r.name === name);
  if (!found) throw new Error(`no invariant ${name}`);
  return found;
};

describe('order streams', () => {
  it('when streams are folded, then each order gets the status its events lead to', () => {
    const orders = foldOrders([placed('a', 100), confirmed('a'), placed('b', 100), cancelled('b'), placed('c', 100)]);
    expect([...orders.values()].map((o) => [o.orderId, o.status])).toEqual([
      ['a', 'CONFIRMED'],
      ['b', 'CANCELLED'],
      ['c', 'PENDING'],
    ]);
    expect(ordersTerminal(orders)).toMatchObject({ ok: false, count: 1 });
    expect(ordersTerminal(orders).detail).toBe('3 accepted orders: 1 CONFIRMED, 1 CANCELLED (PAYMENT_DECLINED 1), 1 not terminal; c PENDING');
    expect(orderEventSequence(orders)).toMatchObject({ ok: true, count: 0 });
  });

  it('when versions have a gap or a repeat, or a stream does not start with orders.placed, then the sequence is violated per order', () => {
    const orders = foldOrders([
      placed('gap', 100),
      confirmed('gap', 3),
      placed('repeat', 100),
      confirmed('repeat', 2),
      cancelled('repeat', 2),
      confirmed('orphan', 1),
      placed('twice-settled', 100),
      confirmed('twice-settled', 2),
      cancelled('twice-settled', 3),
    ]);
    const sequence = orderEventSequence(orders);
    expect(sequence).toMatchObject({ ok: false, count: 4 });
    expect(sequence.detail).toContain('gap: versions 1,3');
    expect(sequence.detail).toContain('repeat: versions 1,2,2');
    expect(sequence.detail).toContain('orphan: first event orders.confirmed');
    expect(sequence.detail).toContain('twice-settled: orders.cancelled at v3 after CONFIRMED');
    // A stream without its placement is no accepted order, so it is not counted as non-terminal.
    expect(orders.get('orphan')?.status).toBeUndefined();
    expect(ordersTerminal(orders).count).toBe(0);
  });

  it('when the gateway accepted an order the event store does not hold, then it is counted as lost', () => {
    const orders = foldOrders([placed('a', 100), confirmed('a')]);
    expect(acceptedOrdersStored(orders, ['a', 'a'])).toMatchObject({ ok: true, count: 0 });
    expect(acceptedOrdersStored(orders, ['a', 'lost'])).toMatchObject({ ok: false, count: 1, detail: expect.stringContaining('lost') });
  });
});

describe('ledger sums', () => {
  it('when entries are summed, then charges and refunds are counted and added per order', () => {
    const sums = ledgerSums([charge('a', 500), refund('a', 500), { orderId: 'b', version: 1, type: 'declined', amountCents: 0 }, charge('c', 300), charge('c', 300, 2)]);
    expect(Object.fromEntries(sums)).toEqual({
      a: { charges: 1, chargedCents: 500, refunds: 1, refundedCents: 500 },
      b: { charges: 0, chargedCents: 0, refunds: 0, refundedCents: 0 },
      c: { charges: 2, chargedCents: 600, refunds: 0, refundedCents: 0 },
    });
  });

  it('when every confirmed order is charged its total once and every cancelled charge refunded once, then the money invariants hold', () => {
    const orders = foldOrders([placed('ok', 500), confirmed('ok'), placed('comp', 700), cancelled('comp'), placed('declined', 900), cancelled('declined')]);
    const results = paymentInvariants(orders, [charge('ok', 500), charge('comp', 700), refund('comp', 700), { orderId: 'declined', version: 1, type: 'declined', amountCents: 0 }]);
    expect(results.map((r) => [r.name, r.ok, r.count])).toEqual([
      ['payment-captured-at-most-once', true, 0],
      ['cancelled-charges-refunded', true, 0],
      ['confirmed-orders-charged', true, 0],
    ]);
  });

  it('when money moved wrongly, then each invariant counts its orders', () => {
    const orders = foldOrders([
      placed('double', 500),
      confirmed('double'),
      placed('missing', 500),
      confirmed('missing'),
      placed('short', 500),
      confirmed('short'),
      placed('given-back', 500),
      confirmed('given-back'),
      placed('kept', 700),
      cancelled('kept'),
      placed('refunded-twice', 700),
      cancelled('refunded-twice'),
    ]);
    const [twice, unrefunded, mischarged] = paymentInvariants(orders, [
      charge('double', 500),
      charge('double', 500, 2),
      charge('short', 400),
      charge('given-back', 500),
      refund('given-back', 500),
      charge('kept', 700),
      charge('refunded-twice', 700),
      refund('refunded-twice', 700),
      refund('refunded-twice', 700, 3),
      charge('ghost', 100),
    ]);
    expect(twice).toMatchObject({ ok: false, count: 2 });
    expect(twice?.detail).toContain('ghost: charged 100c without an accepted order');
    expect(unrefunded).toMatchObject({ ok: false, count: 2 });
    expect(unrefunded?.detail).toContain('kept: 1 charge(s) 700c, 0 refund(s) 0c');
    expect(unrefunded?.detail).toContain('refunded-twice: 1 charge(s) 700c, 2 refund(s) 1400c');
    // double (two charges), missing (none), short (wrong amount), given-back (refunded though confirmed).
    expect(mischarged).toMatchObject({ ok: false, count: 4 });
  });
});

describe('stock', () => {
  it('when every unit is available, reserved or sold and nothing is left reserved, then stock is conserved and settled', () => {
    const [conserved, settled] = stockInvariants([
      { productId: 'mug', initial: 10, available: 7, reserved: 0, sold: 3 },
      { productId: 'pen', initial: 5, available: 5, reserved: 0, sold: 0 },
    ]);
    expect(conserved).toMatchObject({ ok: true, count: 0 });
    expect(settled).toMatchObject({ ok: true, count: 0 });
  });

  it('when units appear, vanish, go negative or stay reserved, then the product is counted', () => {
    const [conserved, settled] = stockInvariants([
      { productId: 'invented', initial: 10, available: 9, reserved: 0, sold: 3 },
      { productId: 'lost', initial: 10, available: 5, reserved: 1, sold: 3 },
      { productId: 'negative', initial: 0, available: -1, reserved: 0, sold: 1 },
      { productId: 'held', initial: 10, available: 8, reserved: 2, sold: 0 },
    ]);
    expect(conserved).toMatchObject({ ok: false, count: 3 });
    expect(settled).toMatchObject({ ok: false, count: 2 });
    expect(settled?.detail).toContain('3 units still reserved');
  });

  it('when sold units differ from the units of confirmed orders, then the product is counted; cancelled orders sell nothing', () => {
    const orders = foldOrders([
      placed('a', 100, [
        { productId: 'mug', quantity: 2 },
        { productId: 'pen', quantity: 1 },
      ]),
      confirmed('a'),
      placed('b', 100, [{ productId: 'mug', quantity: 1 }]),
      confirmed('b'),
      placed('c', 100, [{ productId: 'pen', quantity: 4 }]),
      cancelled('c'),
    ]);
    const stock = (mug: number, pen: number, cup = 0) => [
      { productId: 'mug', initial: 10, available: 10 - mug, reserved: 0, sold: mug },
      { productId: 'pen', initial: 10, available: 10 - pen, reserved: 0, sold: pen },
      { productId: 'cup', initial: 10, available: 10 - cup, reserved: 0, sold: cup },
    ];
    expect(soldMatchesConfirmed(orders, stock(3, 1))).toMatchObject({ ok: true, count: 0 });
    const wrong = soldMatchesConfirmed(orders, stock(2, 5, 1));
    expect(wrong).toMatchObject({ ok: false, count: 3 });
    expect(wrong.detail).toContain('mug: sold 2, confirmed 3');
    expect(wrong.detail).toContain('cup: sold 1, confirmed 0');
  });
});

describe('notifications', () => {
  const orders = foldOrders([placed('c', 100), confirmed('c'), placed('x', 100), cancelled('x'), placed('p', 100)]);

  it('when each terminal order has one sent notification of its kind, then the invariant holds', () => {
    const result = notificationPerTerminalOrder(orders, [
      { orderId: 'c', kind: 'order-confirmed', status: 'SENT' },
      { orderId: 'x', kind: 'order-cancelled', status: 'SENT' },
    ]);
    expect(result).toMatchObject({ ok: true, count: 0 });
  });

  it('when one is missing, doubled, unsent or for an order still pending, then each is counted', () => {
    expect(notificationPerTerminalOrder(orders, [{ orderId: 'x', kind: 'order-cancelled', status: 'SENT' }])).toMatchObject({ ok: false, count: 1 });
    const doubled = notificationPerTerminalOrder(orders, [
      { orderId: 'c', kind: 'order-confirmed', status: 'SENT' },
      { orderId: 'c', kind: 'order-cancelled', status: 'SENT' },
      { orderId: 'x', kind: 'order-cancelled', status: 'QUEUED' },
      { orderId: 'p', kind: 'order-confirmed', status: 'SENT' },
    ]);
    expect(doubled).toMatchObject({ ok: false, count: 3 });
    expect(doubled.detail).toContain('0 missing');
    expect(doubled.detail).toContain('c CONFIRMED: order-confirmed, order-cancelled');
    expect(doubled.detail).toContain('x CANCELLED: QUEUED');
    expect(doubled.detail).toContain('p (PENDING): order-confirmed');
  });

  it('when an order settled before the retention cutoff has none, then it is not counted as missing', () => {
    const cutoff = new Date(at.getTime() + 1);
    expect(notificationPerTerminalOrder(orders, [], cutoff)).toMatchObject({ ok: true, count: 0, detail: expect.stringContaining('2 past retention') });
    expect(notificationPerTerminalOrder(orders, [], at)).toMatchObject({ ok: false, count: 2 });
  });
});

describe('the broker', () => {
  it('when a durable consumer has messages pending or unacknowledged, then they are counted', () => {
    expect(consumerBacklogDrained([{ stream: 'ORDERS', name: 'a', numPending: 0, numAckPending: 0 }])).toMatchObject({ ok: true, count: 0 });
    const behind = consumerBacklogDrained([
      { stream: 'ORDERS', name: 'a', numPending: 3, numAckPending: 1 },
      { stream: 'PAYMENTS', name: 'b', numPending: 0, numAckPending: 2 },
      { stream: 'PAYMENTS', name: 'c', numPending: 0, numAckPending: 0 },
    ]);
    expect(behind).toMatchObject({ ok: false, count: 6 });
    expect(behind.detail).toContain('ORDERS/a: 3 pending, 1 unacknowledged');
  });

  it('when only invalid messages were dead-lettered, then the invariant holds and lists the reasons', () => {
    const letters = [
      { consumer: 'payment-orders', subject: 'orders.placed.1.a', reason: 'invalid message: data.totalCents: expected number' },
      { consumer: 'payment-orders', subject: 'orders.placed.1.b', reason: 'invalid message: data.totalCents: expected number' },
    ];
    const ok = deadLettersInvalidOnly(letters);
    expect(ok).toMatchObject({ ok: true, count: 0 });
    expect(ok.detail).toContain('2× payment-orders: invalid message: data.totalCents: expected number');
    const bad = deadLettersInvalidOnly([...letters, { consumer: 'notification-orders', subject: 'orders.confirmed.2.c', reason: 'gave up after 5 attempts' }], 2);
    expect(bad).toMatchObject({ ok: false, count: 3 });
    expect(bad.detail).toContain('1× notification-orders: gave up after 5 attempts');
  });
});

describe('the report', () => {
  it('when a snapshot is evaluated, then every invariant is reported once, in order, and the printout names each', () => {
    const results = evaluate(
      {
        orderEvents: [placed('a', 100), confirmed('a')],
        ledger: [charge('a', 100)],
        stock: [{ productId: 'mug', initial: 5, available: 4, reserved: 0, sold: 1 }],
        notifications: [{ orderId: 'a', kind: 'order-confirmed', status: 'SENT' }],
        consumers: [],
        deadLetters: [],
        deadLettersUnread: 0,
      },
      { acceptedOrderIds: ['a'] },
    );
    expect(results.map((r) => r.name)).toEqual([
      'orders-terminal',
      'accepted-orders-stored',
      'order-event-sequence',
      'payment-captured-at-most-once',
      'cancelled-charges-refunded',
      'confirmed-orders-charged',
      'stock-conserved',
      'stock-settled',
      'sold-matches-confirmed',
      'notification-per-terminal-order',
      'consumer-backlog-drained',
      'dead-letters-invalid-only',
    ]);
    expect(results.every((r) => r.ok)).toBe(true);
    expect(byName(results, 'sold-matches-confirmed').detail).toBe('1 units sold, 1 units in confirmed orders');
    const printed = formatReport([...results, { name: 'x', ok: false, count: 2, detail: 'two wrong' }]).split('\n');
    expect(printed).toHaveLength(13);
    expect(printed[12]).toMatch(/^FAIL x\s+2 {2}two wrong$/);
  });
});
