import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { paymentTokenSeal } from '@tracemart/contracts';
import { eventsOf, testEvent, eventually, useComponent } from '@tracemart/testing';
import { paymentModule } from '../src/module';

/**
 * The payment ledger is event-sourced: money movements are appended, the balance is a replay, and the
 * ledger can be read as of any past time. A cancellation after the charge (a saga timeout) is
 * compensated with a refund.
 */
const PAYMENT_TOKEN_KEY = 'p'.repeat(32);
const payment = useComponent(paymentModule, { PROCESSOR_LATENCY_MS: '5', PAYMENT_TOKEN_KEY });
const sealedVisa = (orderId: string) => paymentTokenSeal(PAYMENT_TOKEN_KEY).seal('tok_visa', orderId);
const seen = payment.observe('PAYMENTS', 'payments.>');

interface LedgerView {
  status: string;
  balanceCents: number;
  entries: { type: string; amountCents: number; version: number; at: string }[];
}

/**
 * Waits until the service has handled every order event published so far (what it publishes in reaction is
 * published before the event is acknowledged) and the observer has recorded all of it.
 */

const ledgerOf = (orderId: string, userId: string, asOf?: string) =>
  payment.as(userId).get<LedgerView>(`/payments/${orderId}/ledger${asOf ? `?asOf=${encodeURIComponent(asOf)}` : ''}`);

describe('payment ledger and refunds', () => {
  it('when a charged order is cancelled by the saga timeout, then it is refunded once and the ledger replays to zero, and asOf shows the charge in between', async () => {
    const orderId = randomUUID();
    const userId = `user-${orderId}`;
    const items = [{ productId: 'mug', name: 'Mug', quantity: 2, unitPriceCents: 1_500 }];
    await payment.bus.publish(testEvent('orders.placed', { orderId, userId, items, totalCents: 3_000, paymentTokenSealed: sealedVisa(orderId) }));
    await payment.bus.publish(testEvent('inventory.reserved', { orderId, items: [{ productId: 'mug', quantity: 2 }] }));
    await eventually(
      async () => eventsOf(seen, orderId, 'payments.charged'),
      (events) => events.length === 1,
    );
    const charged = await ledgerOf(orderId, userId);
    expect(charged.body).toMatchObject({ status: 'CHARGED', balanceCents: 3_000, entries: [{ type: 'charged', amountCents: 3_000, version: 1 }] });
    // As of the charge itself: the refund comes later.
    const between = charged.body.entries[0]?.at;

    const cancelled = testEvent('orders.cancelled', { orderId, userId, reason: 'SAGA_TIMEOUT' });
    await payment.bus.publish(cancelled);
    await payment.bus.publish({ ...cancelled, id: randomUUID() }); // a copy under another id: still one refund
    await eventually(
      async () => eventsOf(seen, orderId, 'payments.refunded'),
      (events) => events.length >= 1,
    );
    await payment.settled(); // both copies handled, and any second refund recorded
    expect(eventsOf(seen, orderId, 'payments.refunded')).toHaveLength(1);
    expect(eventsOf(seen, orderId, 'payments.refunded')[0]?.data).toMatchObject({ amountCents: 3_000 });

    const now = await ledgerOf(orderId, userId);
    expect(now.body).toMatchObject({ status: 'REFUNDED', balanceCents: 0 });
    expect(now.body.entries.map((e) => [e.type, e.version])).toEqual([
      ['charged', 1],
      ['refunded', 2],
    ]);
    const past = await ledgerOf(orderId, userId, between);
    expect(past.body).toMatchObject({ status: 'CHARGED', balanceCents: 3_000 });
    expect(past.body.entries).toHaveLength(1);
  });

  it('when an order is cancelled before payment, then nothing is charged or refunded', async () => {
    const orderId = randomUUID();
    const userId = `user-${orderId}`;
    await payment.bus.publish(
      testEvent('orders.placed', {
        orderId,
        userId,
        items: [{ productId: 'mug', name: 'Mug', quantity: 1, unitPriceCents: 100 }],
        totalCents: 100,
        paymentTokenSealed: sealedVisa(orderId),
      }),
    );
    await payment.bus.publish(testEvent('orders.cancelled', { orderId, userId, reason: 'SAGA_TIMEOUT' }));
    await eventually(
      async () => (await ledgerOf(orderId, userId)).status,
      (status) => status === 200,
    );
    await payment.settled();
    expect((await ledgerOf(orderId, userId)).body).toMatchObject({ status: 'NONE', balanceCents: 0, entries: [] });
    expect(eventsOf(seen, orderId)).toEqual([]);
  });

  it('when someone else asks for a ledger, then 404, and a bare x-user-id naming its owner is a 401', async () => {
    const orderId = randomUUID();
    await payment.bus.publish(
      testEvent('orders.placed', {
        orderId,
        userId: 'owner',
        items: [{ productId: 'mug', name: 'Mug', quantity: 1, unitPriceCents: 100 }],
        totalCents: 100,
        paymentTokenSealed: sealedVisa(orderId),
      }),
    );
    await eventually(
      async () => (await ledgerOf(orderId, 'owner')).status,
      (status) => status === 200,
    );
    expect((await ledgerOf(orderId, 'intruder')).status).toBe(404);
    // On the service's own port, naming the owner in a bare x-user-id is no identity at all.
    const spoofed = await payment.api.get<{ error: { code: string } }>(`/payments/${orderId}/ledger`, { 'x-user-id': 'owner' });
    expect(spoofed.status).toBe(401);
    expect(spoofed.body.error.code).toBe('AUTH.REQUIRED');
  });
});
