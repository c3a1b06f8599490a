import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { paymentTokenSeal } from '@tracemart/contracts';
import { eventsOf, testEvent, eventually, useComponent } from '@tracemart/testing';
import { paymentModule } from '../src/module';

const ADMIN_TOKEN = 'test-admin-token';
const PAYMENT_TOKEN_KEY = 'p'.repeat(32);

const payment = useComponent(paymentModule, {
  PROCESSOR_LATENCY_MS: '5',
  PROCESSOR_FAILURE_RATE: '1',
  PROCESSOR_BREAKER_VOLUME: '2',
  PROCESSOR_BREAKER_RESET_MS: '500',
  PROCESSOR_RETRY_BASE_MS: '10',
  ADMIN_TOKEN,
  PAYMENT_TOKEN_KEY,
});
const paymentsSeen = payment.observe('PAYMENTS', 'payments.>');

function newOrder() {
  const orderId = randomUUID();
  const items = [{ productId: 'mug', name: 'Mug', quantity: 1, unitPriceCents: 1_250 }];
  return {
    orderId,
    placed: testEvent('orders.placed', {
      orderId,
      userId: `user-${orderId}`,
      items,
      totalCents: 1_250,
      paymentTokenSealed: paymentTokenSeal(PAYMENT_TOKEN_KEY).seal('tok_visa', orderId),
    }),
    reserved: testEvent('inventory.reserved', { orderId, items: [{ productId: 'mug', quantity: 1 }] }),
  };
}

const health = async () => (await payment.api.get<{ processor: string }>('/payments/health')).body;
const redelivered = async () => (await payment.consumerInfo('payment-inventory')).redelivered;
const admin = (method: string, path: string, body?: unknown) =>
  fetch(`${payment.service.url}/admin${path}`, {
    method,
    headers: { 'x-admin-token': ADMIN_TOKEN, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });

describe('payment while the card processor is down', () => {
  it('when the processor fails every call, then nothing is charged, the breaker opens and the message is redelivered; after recovery the order is charged exactly once', async () => {
    const order = newOrder();
    const redeliveredBefore = await redelivered();
    await payment.bus.publish(order.placed);
    await payment.bus.publish(order.reserved);

    await eventually(health, (h) => h.processor === 'open');
    await eventually(redelivered, (count) => count > redeliveredBefore, 10_000);
    expect(payment.deps.simulatedProcessor.calls).toBeGreaterThanOrEqual(2);
    expect(eventsOf(paymentsSeen, order.orderId)).toEqual([]);

    payment.deps.simulatedProcessor.setFailureRate(0);
    const [charged] = await eventually(
      async () => eventsOf(paymentsSeen, order.orderId),
      (events) => events.length > 0,
      15_000,
    );
    expect(charged?.type).toBe('payments.charged');
    await eventually(health, (h) => h.processor === 'closed');
    // Every redelivery of the reservation handled: none of them charged again.
    await payment.settled();
    expect(eventsOf(paymentsSeen, order.orderId, 'payments.charged')).toHaveLength(1);
  });

  it('when an outage fault is injected into payment, then the processor counts as down until the fault is cleared', async () => {
    const injected = await admin('POST', '/faults', { kind: 'outage', durationSeconds: 60, route: '/processor' });
    expect(injected.status).toBe(201);
    const { id } = (await injected.json()) as { id: string };
    const order = newOrder();
    await payment.bus.publish(order.placed);
    await payment.bus.publish(order.reserved);
    await eventually(health, (h) => h.processor === 'open');
    expect(eventsOf(paymentsSeen, order.orderId)).toEqual([]);

    expect((await admin('DELETE', `/faults/${id}`)).status).toBe(204);
    await eventually(
      async () => eventsOf(paymentsSeen, order.orderId, 'payments.charged'),
      (events) => events.length === 1,
      15_000,
    );
  });

  it('when consumers are paused, then nothing is handled until they resume', async () => {
    expect((await admin('POST', '/consumers/pause')).status).toBe(200);
    const order = newOrder();
    await payment.bus.publish(order.placed);
    await payment.bus.publish(order.reserved);
    // Paused consumers hold no pull request (num_waiting), so the server can hand them nothing: both events wait
    // undelivered and nothing is in the service's hands.
    const consumers = await eventually(
      async () => Promise.all([payment.consumerInfo('payment-orders'), payment.consumerInfo('payment-inventory')]),
      (infos) => infos.every((info) => info.pending >= 1),
    );
    expect(consumers.map(({ waiting, ackPending }) => ({ waiting, ackPending }))).toEqual([
      { waiting: 0, ackPending: 0 },
      { waiting: 0, ackPending: 0 },
    ]);
    await payment.settled('test-observer-payments');
    expect(eventsOf(paymentsSeen, order.orderId)).toEqual([]);
    expect((await admin('POST', '/consumers/resume')).status).toBe(200);
    await eventually(
      async () => eventsOf(paymentsSeen, order.orderId, 'payments.charged'),
      (events) => events.length === 1,
      15_000,
    );
  });

  it('when the admin token is missing, then the admin API refuses', async () => {
    expect((await fetch(`${payment.service.url}/admin/faults`)).status).toBe(401);
  });
});
