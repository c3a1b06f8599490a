import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger, EventBus, loadConfig, newEnvelope, type RunningService } from '@tracemart/platform';
import { allStreams, validateEvent, type EventData } from '@tracemart/contracts';
import { seedProducts } from '@tracemart/catalog-seed';
import { consumerSettled } from '../../../tests/support/events';
import { eventually, serviceEnv, startTestInfra } from '../../../tests/support/infra';
import { configSchema } from '../src/config';
import { start } from '../src/start';

type Infra = Awaited<ReturnType<typeof startTestInfra>>;
let infra: Infra;
let service: RunningService;
let bus: EventBus;
const seen: { type: string; orderId: string }[] = [];

const product = seedProducts[0];
if (!product) throw new Error('no seed products');

async function stock(productId: string): Promise<{ available: number; reserved: number }> {
  const response = await fetch(`${service.url}/inventory/${productId}`);
  return (await response.json()) as { available: number; reserved: number };
}

function publish<T extends 'orders.placed' | 'orders.cancelled' | 'orders.confirmed'>(type: T, data: EventData<T>) {
  return bus.publish(newEnvelope(type, data, { source: 'test', correlationId: (data as { orderId: string }).orderId }));
}

const placed = (quantity: number, productId = product.id) => {
  const orderId = randomUUID();
  return { orderId, data: { orderId, userId: 'u1', items: [{ productId, name: 'x', quantity, unitPriceCents: 100 }], totalCents: 100 * quantity, paymentToken: 'tok_visa' } };
};

beforeAll(async () => {
  infra = await startTestInfra();
  service = await start(loadConfig(configSchema, serviceEnv(infra)));
  bus = await EventBus.connect({ url: infra.natsUrl, name: 'test', logger: createLogger('test', 'silent'), validate: (e) => void validateEvent(e) });
  await bus.ensureStreams(allStreams);
  await bus.consume({
    stream: 'INVENTORY',
    durable: 'test-observer',
    subject: 'inventory.>',
    handler: async (event) => {
      seen.push({ type: event.type, orderId: (event.data as { orderId: string }).orderId });
      return 'ack';
    },
  });
});

afterAll(async () => {
  await bus?.drain();
  await service?.stop();
  await infra?.stop();
});

describe('inventory reserves stock for placed orders', () => {
  it('when an order is placed, then its stock is reserved and inventory.reserved is published', async () => {
    const before = await stock(product.id);
    const { orderId, data } = placed(2);
    await publish('orders.placed', data);
    await eventually(
      async () => seen.filter((e) => e.orderId === orderId),
      (events) => events.length > 0,
    );
    expect(seen.filter((e) => e.orderId === orderId).map((e) => e.type)).toEqual(['inventory.reserved']);
    expect(await stock(product.id)).toMatchObject({ available: before.available - 2, reserved: before.reserved + 2 });
  });

  it('when the same orders.placed event is delivered twice, then stock is reserved once', async () => {
    const before = await stock(product.id);
    const { orderId, data } = placed(1);
    const event = newEnvelope('orders.placed', data, { source: 'test', correlationId: orderId });
    await bus.publish(event);
    await bus.publish({ ...event, id: randomUUID() }); // same order, a new event id: past JetStream's dedup
    await eventually(
      async () => seen.filter((e) => e.orderId === orderId),
      (events) => events.length > 0,
    );
    await consumerSettled(bus, 'ORDERS', 'inventory-orders'); // the second copy has been handled too
    expect(await stock(product.id)).toMatchObject({ available: before.available - 1, reserved: before.reserved + 1 });
  });

  it('when an order is cancelled after reserving, then the stock is released (compensation)', async () => {
    const before = await stock(product.id);
    const { orderId, data } = placed(3);
    await publish('orders.placed', data);
    await eventually(async () => seen.some((e) => e.orderId === orderId && e.type === 'inventory.reserved'), Boolean);
    await publish('orders.cancelled', { orderId, userId: 'u1', reason: 'PAYMENT_DECLINED' });
    await eventually(async () => seen.some((e) => e.orderId === orderId && e.type === 'inventory.released'), Boolean);
    expect(await stock(product.id)).toEqual(before);
  });

  it('when many orders race for the last units, then exactly the available number are reserved and stock never goes negative', async () => {
    const target = seedProducts[1];
    if (!target) throw new Error('no second product');
    const { available } = await stock(target.id);
    const orders = Array.from({ length: available + 5 }, () => placed(1, target.id));
    await Promise.all(orders.map(({ data }) => publish('orders.placed', data)));
    const ids = new Set<string>(orders.map((o) => o.orderId));
    const outcomes = await eventually(
      async () => seen.filter((e) => ids.has(e.orderId)),
      (events) => events.length === orders.length,
      30_000,
    );
    expect(outcomes.filter((e) => e.type === 'inventory.reserved')).toHaveLength(available);
    expect(outcomes.filter((e) => e.type === 'inventory.rejected')).toHaveLength(5);
    expect(await stock(target.id)).toMatchObject({ available: 0, reserved: available });
  });
});
