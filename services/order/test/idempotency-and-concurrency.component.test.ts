import { randomUUID } from 'node:crypto';
import { beforeAll, afterAll, describe, expect, it } from 'vitest';
import { keyedUuid } from '@tracemart/platform';
import { identityHeaders, startCatalogStub, useComponent } from '@tracemart/testing';
import { ConcurrencyError } from '../src/data/event-store';
import { orderModule } from '../src/module';
import { timeOutOrder } from '../src/use-cases/time-out-order';

let catalog: Awaited<ReturnType<typeof startCatalogStub>>;
/** Read when the fixture starts the service, after the catalog stub below is listening (hooks run in order). */
const env: Record<string, string> = { SAGA_TIMEOUT_MS: '600000', PAYMENT_TOKEN_KEY: 'p'.repeat(32) };
beforeAll(async () => {
  catalog = await startCatalogStub();
  env.GATEWAY_URL = catalog.url;
});
afterAll(() => catalog?.close());
const order = useComponent(orderModule, env);

const place = (user: string, body: unknown, key?: string) =>
  fetch(`${order.service.url}/orders`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...identityHeaders({ userId: user, secret: order.service.config.INTERNAL_AUTH_SECRET }),
      ...(key ? { 'idempotency-key': key } : {}),
    },
    body: JSON.stringify(body),
  });
const placedCount = (user: string) => order.db.collection('order_events').countDocuments({ type: 'orders.placed', 'data.userId': user });
const body = { items: [{ productId: 'burr-grinder', quantity: 1 }], paymentToken: 'tok_visa' };
/** An `orders.placed` event as the service stores it, for tests that write the stream directly. */
const placedEvent = (orderId: string) => ({
  type: 'orders.placed' as const,
  data: {
    orderId,
    userId: 'u',
    items: [{ productId: 'burr-grinder', name: 'Burr grinder', quantity: 1, unitPriceCents: 0 }],
    totalCents: 0,
    paymentTokenSealed: order.deps.paymentTokens.seal('tok_visa', orderId),
  },
});

describe('Idempotency-Key on POST /orders', () => {
  it('when the same key and body are sent again, then the original response comes back and no second order exists', async () => {
    const user = `idem-${randomUUID()}`;
    const key = randomUUID();
    const first = await place(user, body, key);
    const again = await place(user, { paymentToken: 'tok_visa', items: [{ quantity: 1, productId: 'burr-grinder' }] }, key); // same body, keys reordered
    expect(first.status).toBe(202);
    expect(again.status).toBe(202);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(((await again.json()) as { id: string }).id).toBe(((await first.json()) as { id: string }).id);
    expect(await placedCount(user)).toBe(1);
  });

  it('when the same key comes with a different body, then 422 and nothing new is placed', async () => {
    const user = `idem-${randomUUID()}`;
    const key = randomUUID();
    expect((await place(user, body, key)).status).toBe(202);
    const conflicting = await place(user, { ...body, items: [{ productId: 'burr-grinder', quantity: 2 }] }, key);
    expect(conflicting.status).toBe(422);
    expect(await conflicting.json()).toMatchObject({ error: { code: 'IDEMPOTENCY.KEY_REUSED' } });
    expect(await placedCount(user)).toBe(1);
  });

  it('when another user sends the same key, then it is their own, independent request', async () => {
    const key = randomUUID();
    const [a, b] = [`idem-${randomUUID()}`, `idem-${randomUUID()}`];
    expect((await place(a, body, key)).status).toBe(202);
    expect((await place(b, body, key)).headers.get('idempotent-replayed')).toBeNull();
    expect(await placedCount(b)).toBe(1);
  });

  it('when the same request is sent many times at once, then exactly one order exists and every answer names it', async () => {
    const user = `idem-${randomUUID()}`;
    const key = randomUUID();
    const answers = await Promise.all(Array.from({ length: 8 }, () => place(user, body, key)));
    expect(answers.map((a) => a.status)).toEqual(Array(8).fill(202));
    const ids = new Set(await Promise.all(answers.map(async (a) => ((await a.json()) as { id: string }).id)));
    expect([...ids]).toEqual([keyedUuid(`order:${user}`, key)]);
    expect(answers.filter((a) => a.headers.get('idempotent-replayed') === 'true')).toHaveLength(7);
    expect(await placedCount(user)).toBe(1);
  });

  it('when the key is repeated after the order moved on, then the answer is still the first one (the order as placed)', async () => {
    const user = `idem-${randomUUID()}`;
    const key = randomUUID();
    const first = (await (await place(user, body, key)).json()) as { id: string; status: string };
    const orders = order.db.collection<{ streamId: string }>('order_events');
    await orders.insertOne({
      _id: randomUUID(),
      streamId: first.id,
      version: 2,
      type: 'orders.confirmed',
      data: { orderId: first.id, userId: user, totalCents: 0 },
      occurredAt: new Date(),
      published: true,
    } as never);
    const again = await place(user, body, key);
    expect(again.status).toBe(202);
    expect(await again.json()).toEqual(first);
  });

  it('when the key is malformed, then 400', async () => {
    expect((await place(`idem-${randomUUID()}`, body, 'has spaces and $')).status).toBe(400);
  });
});

describe('event store optimistic concurrency', () => {
  it('when two writers append to one stream at the same version, then exactly one wins and the other gets a ConcurrencyError', async () => {
    const store = order.deps.orders;
    const streamId = randomUUID();
    await store.append(streamId, 0, [placedEvent(streamId)], streamId);
    const results = await Promise.allSettled([
      store.append(streamId, 1, [{ type: 'orders.confirmed', data: { orderId: streamId, userId: 'u', totalCents: 0 } }], streamId),
      store.append(streamId, 1, [{ type: 'orders.cancelled', data: { orderId: streamId, userId: 'u', reason: 'PAYMENT_DECLINED' } }], streamId),
    ]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const rejected = results.find((r) => r.status === 'rejected');
    expect(rejected && rejected.status === 'rejected' ? rejected.reason : undefined).toBeInstanceOf(ConcurrencyError);
    expect((await store.load(streamId)).map((e) => e.version)).toEqual([1, 2]);
  });

  it('when the saga sweeper times out an order twice (found again before its settled mark is written), then only the first call cancels it and says so', async () => {
    const streamId = randomUUID();
    await order.deps.orders.append(streamId, 0, [placedEvent(streamId)], streamId);
    expect(await timeOutOrder(order.deps, streamId)).toBe(true);
    expect(await timeOutOrder(order.deps, streamId)).toBe(false);
    expect((await order.deps.orders.load(streamId)).map((e) => e.type)).toEqual(['orders.placed', 'orders.cancelled']);
  });
});
