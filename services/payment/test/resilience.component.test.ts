import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, type EventBus, type EventEnvelope } from '@tracemart/platform';
import { consumerSettled, connectTestBus, eventsOf, recordEvents, testEvent } from '../../../tests/support/events';
import { eventually, serviceEnv, startTestInfra } from '../../../tests/support/infra';
import { configSchema } from '../src/config';
import { start, type RunningPayment } from '../src/start';

type Infra = Awaited<ReturnType<typeof startTestInfra>>;
const ADMIN_TOKEN = 'test-admin-token';

let infra: Infra;
let service: RunningPayment;
let bus: EventBus;
let paymentsSeen: EventEnvelope[];

function newOrder() {
  const orderId = randomUUID();
  const items = [{ productId: 'mug', name: 'Mug', quantity: 1, unitPriceCents: 1_250 }];
  return {
    orderId,
    placed: testEvent('orders.placed', { orderId, userId: `user-${orderId}`, items, totalCents: 1_250, paymentToken: 'tok_visa' }),
    reserved: testEvent('inventory.reserved', { orderId, items: [{ productId: 'mug', quantity: 1 }] }),
  };
}

const health = async () => (await (await fetch(`${service.url}/payments/health`)).json()) as { processor: string };
const redelivered = async () => (await bus.jsm.consumers.info('INVENTORY', 'payment-inventory')).num_redelivered;
const admin = (method: string, path: string, body?: unknown) =>
  fetch(`${service.url}/admin${path}`, {
    method,
    headers: { 'x-admin-token': ADMIN_TOKEN, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });

beforeAll(async () => {
  infra = await startTestInfra();
  service = await start(
    loadConfig(
      configSchema,
      serviceEnv(infra, {
        PROCESSOR_LATENCY_MS: '5',
        PROCESSOR_FAILURE_RATE: '1',
        PROCESSOR_BREAKER_VOLUME: '2',
        PROCESSOR_BREAKER_RESET_MS: '500',
        PROCESSOR_RETRY_BASE_MS: '10',
        ADMIN_TOKEN,
      }),
    ),
  );
  bus = await connectTestBus(infra.natsUrl);
  ({ events: paymentsSeen } = await recordEvents(bus, 'PAYMENTS', 'payments.>'));
});

afterAll(async () => {
  await bus?.drain();
  await service?.stop();
  await infra?.stop();
});

describe('payment while the card processor is down', () => {
  it('when the processor fails every call, then nothing is charged, the breaker opens and the message is redelivered; after recovery the order is charged exactly once', async () => {
    const order = newOrder();
    const redeliveredBefore = await redelivered();
    await bus.publish(order.placed);
    await bus.publish(order.reserved);

    await eventually(health, (h) => h.processor === 'open');
    await eventually(redelivered, (count) => count > redeliveredBefore, 10_000);
    expect(service.processor.calls).toBeGreaterThanOrEqual(2);
    expect(eventsOf(paymentsSeen, order.orderId)).toEqual([]);

    service.processor.setFailureRate(0);
    const [charged] = await eventually(
      async () => eventsOf(paymentsSeen, order.orderId),
      (events) => events.length > 0,
      15_000,
    );
    expect(charged?.type).toBe('payments.charged');
    await eventually(health, (h) => h.processor === 'closed');
    // Give any stray redelivery time to (wrongly) charge again.
    await consumerSettled(bus, 'INVENTORY', 'payment-inventory');
    await new Promise((r) => setTimeout(r, 1_000));
    expect(eventsOf(paymentsSeen, order.orderId, 'payments.charged')).toHaveLength(1);
  });

  it('when an outage fault is injected into payment, then the processor counts as down until the fault is cleared', async () => {
    const injected = await admin('POST', '/faults', { kind: 'outage', durationSeconds: 60, route: '/processor' });
    expect(injected.status).toBe(201);
    const { id } = (await injected.json()) as { id: string };
    const order = newOrder();
    await bus.publish(order.placed);
    await bus.publish(order.reserved);
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
    await bus.publish(order.placed);
    await bus.publish(order.reserved);
    await new Promise((r) => setTimeout(r, 1_000));
    expect(eventsOf(paymentsSeen, order.orderId)).toEqual([]);
    expect((await admin('POST', '/consumers/resume')).status).toBe(200);
    await eventually(
      async () => eventsOf(paymentsSeen, order.orderId, 'payments.charged'),
      (events) => events.length === 1,
      15_000,
    );
  });

  it('when the admin token is missing, then the admin API refuses', async () => {
    expect((await fetch(`${service.url}/admin/faults`)).status).toBe(401);
  });
});
