import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { paymentTokenSeal, type PaymentToken } from '@tracemart/contracts';
import { eventsOf, republishPastDedup, testEvent, eventually, useComponent } from '@tracemart/testing';
import { paymentModule } from '../src/module';

const PAYMENT_TOKEN_KEY = 'charge-payment-test-payment-token-key-0123';
/** What the order service does with the card token: seal it, for this order, under the key it shares with payment. */
const sealed = (token: string, orderId: string, key = PAYMENT_TOKEN_KEY) => paymentTokenSeal(key).seal(token, orderId);

const payment = useComponent(paymentModule, { PROCESSOR_LATENCY_MS: '20', PAYMENT_TOKEN_KEY });
const paymentsSeen = payment.observe('PAYMENTS', 'payments.>');

function newOrder(paymentToken: PaymentToken = 'tok_visa', seal: (token: string, orderId: string) => string = sealed) {
  const orderId = randomUUID();
  const items = [
    { productId: 'mug', name: 'Mug', quantity: 2, unitPriceCents: 1_250 },
    { productId: 'kettle', name: 'Kettle', quantity: 1, unitPriceCents: 4_999 },
  ];
  return {
    orderId,
    totalCents: 7_499,
    placed: testEvent('orders.placed', { orderId, userId: `user-${orderId}`, items, totalCents: 7_499, paymentTokenSealed: seal(paymentToken, orderId) }),
    reserved: testEvent('inventory.reserved', { orderId, items: items.map(({ productId, quantity }) => ({ productId, quantity })) }),
  };
}

const outcomesOf = (orderId: string) => eventsOf(paymentsSeen, orderId);
const paymentDocument = (orderId: string) => payment.db.collection<{ _id: string }>('payments').findOne({ _id: orderId });
const firstOutcome = (orderId: string) =>
  eventually(
    async () => outcomesOf(orderId),
    (events) => events.length > 0,
  );

describe('payment charges an order once its stock is reserved', () => {
  it('when orders.placed then inventory.reserved arrive with tok_visa, then payments.charged carries the order total', async () => {
    const order = newOrder('tok_visa');
    await payment.bus.publish(order.placed);
    await payment.settled('payment-orders');
    expect(outcomesOf(order.orderId)).toEqual([]);

    await payment.bus.publish(order.reserved);
    const [outcome] = await firstOutcome(order.orderId);
    expect(outcome?.type).toBe('payments.charged');
    expect(outcome?.data).toEqual({ orderId: order.orderId, paymentId: expect.any(String), amountCents: order.totalCents });
    expect(outcome?.correlationId).toBe(order.orderId);
  });

  it('when the token is tok_chargeDeclined, then payments.declined and no charge', async () => {
    const order = newOrder('tok_chargeDeclined');
    await payment.bus.publish(order.placed);
    await payment.bus.publish(order.reserved);
    const [outcome] = await firstOutcome(order.orderId);
    await payment.settled();
    expect(outcome?.type).toBe('payments.declined');
    expect(outcome?.data).toEqual({ orderId: order.orderId, paymentId: expect.any(String), reason: expect.any(String) });
    expect(outcomesOf(order.orderId)).toHaveLength(1);
  });

  it('when inventory.reserved arrives before orders.placed, then it is retried and the order is charged exactly once', async () => {
    const order = newOrder('tok_visa');
    const deliveredBefore = (await payment.consumerInfo('payment-inventory')).delivered;
    await payment.bus.publish(order.reserved);
    // Two deliveries of one message: it was not acknowledged the first time but negatively acknowledged and redelivered.
    await eventually(
      async () => (await payment.consumerInfo('payment-inventory')).delivered,
      (seq) => seq >= deliveredBefore + 2,
    );
    expect(outcomesOf(order.orderId)).toEqual([]);

    await payment.bus.publish(order.placed);
    await firstOutcome(order.orderId);
    await payment.settled();
    expect(outcomesOf(order.orderId).map((e) => e.type)).toEqual(['payments.charged']);
    expect(outcomesOf(order.orderId)[0]?.data).toMatchObject({ amountCents: order.totalCents });
  });

  it('when inventory.reserved is redelivered after the charge, then there is still one charge only', async () => {
    const order = newOrder('tok_visa');
    await payment.bus.publish(order.placed);
    await payment.bus.publish(order.reserved);
    await firstOutcome(order.orderId);
    await payment.settled();

    // The same fact under a new event id, as a producer retry after a lost ack would publish it.
    await payment.bus.publish({ ...order.reserved, id: randomUUID() });
    await payment.settled();

    expect(outcomesOf(order.orderId).map((e) => e.type)).toEqual(['payments.charged']);
  });

  it('when the very same inventory.reserved event is delivered several times at once, then it is applied once', async () => {
    const order = newOrder('tok_visa');
    await payment.bus.publish(order.placed);
    await payment.settled('payment-orders');

    await Promise.all([payment.bus.publish(order.reserved), ...Array.from({ length: 4 }, () => republishPastDedup(payment.bus, order.reserved))]);
    await firstOutcome(order.orderId);
    await payment.settled();

    expect(outcomesOf(order.orderId).map((e) => e.type)).toEqual(['payments.charged']);
  });

  it('when copies of inventory.reserved under new event ids are delivered concurrently, then there is still one charge only', async () => {
    // Several orders, each reserved six times at once: a race needs only one of them to lose.
    const orders = Array.from({ length: 5 }, () => newOrder('tok_visa'));
    await Promise.all(orders.map((order) => payment.bus.publish(order.placed)));
    await payment.settled('payment-orders');

    const copies = orders.flatMap((order) => [order.reserved, ...Array.from({ length: 5 }, () => ({ ...order.reserved, id: randomUUID() }))]);
    await Promise.all(copies.map((event) => payment.bus.publish(event)));
    await Promise.all(orders.map((order) => firstOutcome(order.orderId)));
    await payment.settled();

    const chargesPerOrder = orders.map((order) => outcomesOf(order.orderId).filter((e) => e.type === 'payments.charged').length);
    expect(chargesPerOrder).toEqual(orders.map(() => 1));
    expect(orders.flatMap((order) => outcomesOf(order.orderId)).map((e) => e.type)).not.toContain('payments.declined');
  });

  it('when orders.placed is delivered again after the charge, then the payment is not reopened or charged again', async () => {
    const order = newOrder('tok_visa');
    await payment.bus.publish(order.placed);
    await payment.bus.publish(order.reserved);
    await firstOutcome(order.orderId);
    await payment.bus.publish({ ...order.placed, id: randomUUID() });
    await payment.bus.publish({ ...order.reserved, id: randomUUID() });
    await payment.settled();
    expect(outcomesOf(order.orderId).map((e) => e.type)).toEqual(['payments.charged']);
  });

  it('when the order is placed, then the payment document holds the card token sealed only, and no token once the charge is decided', async () => {
    const order = newOrder('tok_visa');
    await payment.bus.publish(order.placed);
    await payment.settled('payment-orders');
    const waiting = await paymentDocument(order.orderId);
    expect(waiting).toMatchObject({ status: 'AWAITING_STOCK', sealedToken: expect.any(String) });
    expect(JSON.stringify(waiting)).not.toContain('tok_');

    await payment.bus.publish(order.reserved);
    await firstOutcome(order.orderId);
    await payment.settled();
    const decided = await paymentDocument(order.orderId);
    expect(decided).toMatchObject({ status: 'CHARGED' });
    expect(decided).not.toHaveProperty('sealedToken');
    expect(decided).not.toHaveProperty('token');
  });

  it('when a sealed tok_chargeDeclined is declined, then the payment document keeps no token either', async () => {
    const order = newOrder('tok_chargeDeclined');
    await payment.bus.publish(order.placed);
    await payment.bus.publish(order.reserved);
    const [outcome] = await firstOutcome(order.orderId);
    await payment.settled();
    expect(outcome).toMatchObject({ type: 'payments.declined', data: { reason: 'card declined' } });
    const decided = await paymentDocument(order.orderId);
    expect(decided).toMatchObject({ status: 'DECLINED' });
    expect(decided).not.toHaveProperty('sealedToken');
  });

  it.each([
    ['under another key', (token: string, orderId: string) => sealed(token, orderId, 'another-payment-token-key-9876543210-abcdef')],
    ['for another order', (token: string) => sealed(token, randomUUID())],
  ])('when the token was sealed %s, then the payment is declined as unreadable and nothing is charged', async (_case, seal) => {
    const order = newOrder('tok_visa', seal);
    await payment.bus.publish(order.placed);
    await payment.bus.publish(order.reserved);
    const [outcome] = await firstOutcome(order.orderId);
    await payment.settled();
    expect(outcome).toMatchObject({ type: 'payments.declined', data: { reason: 'payment token unreadable' } });
    expect(outcomesOf(order.orderId)).toHaveLength(1);
  });

  it('when an orders.placed stored before tokens were sealed carries the token in clear, then it is charged and the token is stored sealed meanwhile', async () => {
    const order = newOrder('tok_visa');
    const { paymentTokenSealed: _sealed, ...data } = order.placed.data as typeof order.placed.data & { paymentTokenSealed: string };
    await payment.bus.publish(testEvent('orders.placed', { ...data, paymentToken: 'tok_visa' }));
    await payment.settled('payment-orders');
    expect(JSON.stringify(await paymentDocument(order.orderId))).not.toContain('tok_');
    await payment.bus.publish(order.reserved);
    const [outcome] = await firstOutcome(order.orderId);
    expect(outcome?.type).toBe('payments.charged');
  });

  it('when a payment opened before tokens were sealed holds the token in clear, then it is charged and the token is removed', async () => {
    const order = newOrder('tok_visa');
    await payment.db.collection<{ _id: string; [field: string]: unknown }>('payments').insertOne({
      _id: order.orderId,
      paymentId: randomUUID(),
      userId: 'legacy',
      amountCents: order.totalCents,
      token: 'tok_visa',
      status: 'AWAITING_STOCK',
      outbox: [],
      updatedAt: new Date(),
    });
    await payment.bus.publish(order.reserved);
    const [outcome] = await firstOutcome(order.orderId);
    await payment.settled();
    expect(outcome?.type).toBe('payments.charged');
    expect(await paymentDocument(order.orderId)).not.toHaveProperty('token');
  });
});
