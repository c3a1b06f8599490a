import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { PaymentToken } from '@tracemart/contracts';
import { eventsOf, republishPastDedup, testEvent, eventually, useComponent } from '@tracemart/testing';
import { paymentModule } from '../src/module';

const payment = useComponent(paymentModule, { PROCESSOR_LATENCY_MS: '20' });
const paymentsSeen = payment.observe('PAYMENTS', 'payments.>');

function newOrder(paymentToken: PaymentToken = 'tok_visa') {
  const orderId = randomUUID();
  const items = [
    { productId: 'mug', name: 'Mug', quantity: 2, unitPriceCents: 1_250 },
    { productId: 'kettle', name: 'Kettle', quantity: 1, unitPriceCents: 4_999 },
  ];
  return {
    orderId,
    totalCents: 7_499,
    placed: testEvent('orders.placed', { orderId, userId: `user-${orderId}`, items, totalCents: 7_499, paymentToken }),
    reserved: testEvent('inventory.reserved', { orderId, items: items.map(({ productId, quantity }) => ({ productId, quantity })) }),
  };
}

const outcomesOf = (orderId: string) => eventsOf(paymentsSeen, orderId);
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
});
