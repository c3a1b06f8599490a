import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IDENTITY_HEADER, signAccessToken, signIdentityAssertion } from '@tracemart/platform';
import { partitionOf, paymentTokenSeal } from '@tracemart/contracts';
import { eventsOf, identityHeaders, testEvent, eventually, useComponent } from '@tracemart/testing';
import { orderModule } from '../src/module';
import { placeOrder as placeOrderUseCase } from '../src/use-cases/place-order';

type ErrorBody = { error: { code: string; message: string } };
interface OrderView {
  id: string;
  status: string;
  items: { productId: string; name: string; quantity: number; unitPriceCents: number }[];
  totalCents: number;
  reason?: string;
  createdAt: string;
  updatedAt: string;
}
type History = { items: { type: string; version: number }[] };

/** The catalog as the gateway would answer it; prices deliberately differ from the seed data. */
const catalog = [
  { id: 'mug', name: 'Mug', description: 'A mug.', category: 'home', priceCents: 1_250 },
  { id: 'kettle', name: 'Kettle', description: 'A kettle.', category: 'home', priceCents: 4_999 },
];

let catalogStub: Server;
let catalogMode: 'up' | 'error' | 'down' = 'up';
const catalogRequests: URL[] = [];

/** The one stub: the gateway's GET /api/products, at the network edge. */
async function startCatalogStub(): Promise<string> {
  catalogStub = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://stub');
    catalogRequests.push(url);
    if (catalogMode === 'down') {
      req.socket.destroy();
      return;
    }
    if (catalogMode === 'error' || url.pathname !== '/api/products') {
      res.writeHead(catalogMode === 'error' ? 500 : 404, { 'content-type': 'application/json' }).end('{"error":{"code":"STUB","message":"stub"}}');
      return;
    }
    const ids = new Set((url.searchParams.get('ids') ?? '').split(','));
    const items = catalog.filter((p) => ids.has(p.id));
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ items, total: items.length }));
  });
  catalogStub.listen(0, '127.0.0.1');
  await once(catalogStub, 'listening');
  return `http://127.0.0.1:${(catalogStub.address() as AddressInfo).port}`;
}

/** Read when the fixture starts the service, after the catalog stub is listening (hooks run in order). */
const PAYMENT_TOKEN_KEY = 'order-saga-test-payment-token-key-0123456789';
const env: Record<string, string> = { CATALOG_TIMEOUT_MS: '1000', CATALOG_CACHE_TTL_MS: '0', PAYMENT_TOKEN_KEY };
beforeAll(async () => {
  env.GATEWAY_URL = await startCatalogStub();
});
afterAll(async () => {
  catalogStub?.closeAllConnections();
  await new Promise((resolve) => catalogStub?.close(resolve));
});
const orderService = useComponent(orderModule, env);
const ordersSeen = orderService.observe('ORDERS', 'orders.>');

/** A client acting as one user, as the gateway would after verifying that user's token. */
const as = (userId: string) => orderService.as(userId);

async function placeOrder(userId = `user-${randomUUID()}`) {
  const response = await as(userId).post<OrderView>('/orders', {
    items: [
      { productId: 'mug', quantity: 3 },
      { productId: 'kettle', quantity: 1 },
    ],
    paymentToken: 'tok_visa',
  });
  if (response.status !== 202) throw new Error(`place failed: ${response.status} ${JSON.stringify(response.body)}`);
  return { userId, order: response.body };
}

const getOrder = (userId: string, orderId: string, query = '') => as(userId).get<OrderView>(`/orders/${orderId}${query}`);
const historyOf = async (userId: string, orderId: string) => (await as(userId).get<History>(`/orders/${orderId}/history`)).body.items;
const charged = (orderId: string) => testEvent('payments.charged', { orderId, paymentId: randomUUID(), amountCents: 8_749 });
const settled = () => orderService.settled('order-payments');

describe('placing an order', () => {
  it('when an order is placed, then 202 PENDING priced with the catalog prices, and orders.placed is published', async () => {
    const before = catalogRequests.length;
    const { userId, order } = await placeOrder();

    expect(order).toMatchObject({
      status: 'PENDING',
      items: [
        { productId: 'mug', name: 'Mug', quantity: 3, unitPriceCents: 1_250 },
        { productId: 'kettle', name: 'Kettle', quantity: 1, unitPriceCents: 4_999 },
      ],
      totalCents: 8_749,
    });
    expect(catalogRequests.slice(before).map((url) => url.searchParams.get('ids'))).toEqual(['mug,kettle']);
    const placed = await eventually(
      async () => eventsOf(ordersSeen, order.id, 'orders.placed'),
      (events) => events.length === 1,
    );
    const { paymentTokenSealed, ...data } = placed[0]?.data as { paymentTokenSealed: string };
    expect(data).toEqual({ orderId: order.id, userId, items: order.items, totalCents: 8_749 });
    expect(paymentTokenSeal(PAYMENT_TOKEN_KEY).open(paymentTokenSealed, order.id)).toBe('tok_visa');
  });

  it('when an order is placed, then neither its stored events nor the ORDERS stream hold the card token in clear', async () => {
    const { order } = await placeOrderUseCase(orderService.deps, {
      userId: `user-${randomUUID()}`,
      body: { items: [{ productId: 'mug', quantity: 1 }], paymentToken: 'tok_chargeDeclined' },
    });
    const stored = await orderService.db.collection('order_events').find({ streamId: order.id }).toArray();
    expect(stored.map((doc) => doc.type)).toContain('orders.placed');
    expect(JSON.stringify(stored)).not.toContain('tok_');
    const message = await eventually(
      // Stored as orders.placed.<partition>.<order id> (the stream's subject transform).
      async () => orderService.bus.jsm.streams.getMessage('ORDERS', { last_by_subj: `orders.placed.${partitionOf(order.id)}.${order.id}` }).catch(() => null),
      (found) => found !== null,
    );
    expect(message?.string()).toContain(order.id);
    expect(message?.string()).not.toContain('tok_');
  });

  it('when the order names an unknown product, then 422 ORDER.UNKNOWN_PRODUCT', async () => {
    const userId = `user-${randomUUID()}`;
    const response = await as(userId).post<ErrorBody>('/orders', { items: [{ productId: 'no-such-thing', quantity: 1 }], paymentToken: 'tok_visa' });
    expect(response.status).toBe(422);
    expect(response.body.error.code).toBe('ORDER.UNKNOWN_PRODUCT');
    expect((await as(userId).get('/orders')).body).toEqual({ items: [] });
  });

  it.each(['down', 'error'] as const)('when the catalog is %s, then 503 CATALOG.UNAVAILABLE and nothing is stored or published', async (mode) => {
    const userId = `user-${randomUUID()}`;
    const publishedBefore = ordersSeen.length;
    catalogMode = mode;
    try {
      const response = await as(userId).post<ErrorBody>('/orders', { items: [{ productId: 'mug', quantity: 1 }], paymentToken: 'tok_visa' });
      expect(response.status).toBe(503);
      expect(response.body.error.code).toBe('CATALOG.UNAVAILABLE');
      expect(response.headers.get('retry-after')).not.toBeNull();
    } finally {
      catalogMode = 'up';
    }
    expect((await as(userId).get('/orders')).body).toEqual({ items: [] });
    await orderService.settled('test-observer-orders');
    expect(ordersSeen.slice(publishedBefore).filter((e) => (e.data as { userId?: string }).userId === userId)).toEqual([]);
  });

  it('when there is no identity assertion, then 401 and nothing is placed', async () => {
    const before = catalogRequests.length;
    const response = await orderService.api.post('/orders', { items: [{ productId: 'mug', quantity: 1 }], paymentToken: 'tok_visa' });
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(catalogRequests.length).toBe(before);
  });

  it('when a caller on the service port names a user in a bare x-user-id, then 401: nothing is placed and none of their orders is read', async () => {
    const { userId, order } = await placeOrder();
    const spoof = { 'x-user-id': userId };
    const before = catalogRequests.length;
    const placed = await orderService.api.post<ErrorBody>('/orders', { items: [{ productId: 'mug', quantity: 1 }], paymentToken: 'tok_visa' }, spoof);
    expect(placed.status).toBe(401);
    expect(placed.body.error.code).toBe('AUTH.REQUIRED');
    expect(catalogRequests.length).toBe(before);
    for (const path of ['/orders', `/orders/${order.id}`, `/orders/${order.id}/history`]) {
      const read = await orderService.api.get(path, spoof);
      expect(read.status, path).toBe(401);
      expect(JSON.stringify(read.body), path).not.toContain(order.id);
    }
    expect((await as(userId).get('/orders')).body).toMatchObject({ items: [{ id: order.id }] });
  });

  it('when the identity assertion is forged, expired, for another audience or made for another request, then 401 and nothing is read', async () => {
    const { userId, order } = await placeOrder();
    const secret = orderService.service.config.INTERNAL_AUTH_SECRET;
    const requestId = randomUUID();
    const refused: Record<string, Record<string, string>> = {
      'signed with another secret': {
        'x-request-id': requestId,
        [IDENTITY_HEADER]: signIdentityAssertion({ sub: userId, requestId }, 'not-the-internal-secret-'.padEnd(40, 'x')),
      },
      expired: { 'x-request-id': requestId, [IDENTITY_HEADER]: signIdentityAssertion({ sub: userId, requestId }, secret, -60) },
      'for another audience (an access token signed with the same secret)': {
        'x-request-id': requestId,
        [IDENTITY_HEADER]: await signAccessToken({ sub: userId, name: 'Eve' }, secret, 60),
      },
      'made for another request': { ...identityHeaders({ userId, secret }), 'x-request-id': randomUUID() },
      'with no request id': { [IDENTITY_HEADER]: identityHeaders({ userId, secret })[IDENTITY_HEADER] ?? '' },
    };
    for (const [what, headers] of Object.entries(refused)) {
      const response = await orderService.api.get<ErrorBody>(`/orders/${order.id}`, headers);
      expect(response.status, what).toBe(401);
      expect(response.headers.get('www-authenticate'), what).toMatch(/^Bearer/);
      expect(response.body.error.code, what).toMatch(/^AUTH\./);
    }
  });
});

describe('reading orders', () => {
  it('when another user asks for an order, then 404 as if it did not exist, also for its history', async () => {
    const { order } = await placeOrder();
    const stranger = `user-${randomUUID()}`;
    expect((await getOrder(stranger, order.id)).status).toBe(404);
    expect((await as(stranger).get(`/orders/${order.id}/history`)).status).toBe(404);
    expect((await as(stranger).get('/orders')).body).toEqual({ items: [] });
  });
});

describe('the order side of the saga', () => {
  it('when only inventory.reserved arrives, then the order stays PENDING with one event', async () => {
    const { userId, order } = await placeOrder();
    await orderService.bus.publish(testEvent('inventory.reserved', { orderId: order.id, items: [{ productId: 'mug', quantity: 3 }] }));
    // The read model is the order service's only reader of it: once it shows the reservation and every consumer of
    // INVENTORY has settled, nothing is left that could still act on it.
    await eventually(
      async () => (await as(userId).get<{ items: { id: string; inventoryStatus: string }[] }>('/orders')).body.items,
      (items) => items.some((summary) => summary.id === order.id && summary.inventoryStatus === 'RESERVED'),
    );
    await orderService.settled('order-summary-inventory');
    await orderService.settled('order-inventory');
    expect((await getOrder(userId, order.id)).body.status).toBe('PENDING');
    expect((await historyOf(userId, order.id)).map((e) => e.type)).toEqual(['orders.placed']);
  });

  it('when payments.charged arrives, then CONFIRMED and orders.confirmed is published on ORDERS', async () => {
    const { userId, order } = await placeOrder();
    await orderService.bus.publish(charged(order.id));

    await eventually(
      async () => (await getOrder(userId, order.id)).body.status,
      (status) => status === 'CONFIRMED',
    );
    const confirmed = await eventually(
      async () => eventsOf(ordersSeen, order.id, 'orders.confirmed'),
      (events) => events.length === 1,
    );
    expect(confirmed[0]?.data).toEqual({ orderId: order.id, userId, totalCents: 8_749 });
    expect(confirmed[0]?.correlationId).toBe(order.id);
    // Its bookkeeping: every event marked published and the order no longer in flight for the saga sweeper.
    const events = orderService.db.collection<{ streamId: string; published: boolean; unsettled?: true }>('order_events');
    const marks = await eventually(
      async () => (await events.find({ streamId: order.id }).toArray()).map((doc) => ({ published: doc.published, unsettled: doc.unsettled ?? false })),
      (docs) => docs.length === 2 && docs.every((doc) => doc.published && !doc.unsettled),
    );
    expect(marks).toHaveLength(2);
  });

  it('when payments.declined arrives, then CANCELLED with PAYMENT_DECLINED and orders.cancelled is published', async () => {
    const { userId, order } = await placeOrder();
    await orderService.bus.publish(testEvent('payments.declined', { orderId: order.id, paymentId: randomUUID(), reason: 'card declined' }));

    const view = await eventually(
      async () => (await getOrder(userId, order.id)).body,
      (o) => o.status === 'CANCELLED',
    );
    expect(view.reason).toBe('PAYMENT_DECLINED');
    const cancelled = await eventually(
      async () => eventsOf(ordersSeen, order.id, 'orders.cancelled'),
      (events) => events.length === 1,
    );
    expect(cancelled[0]?.data).toEqual({ orderId: order.id, userId, reason: 'PAYMENT_DECLINED' });
  });

  it('when payments.charged is delivered again, then version, history and published events are unchanged', async () => {
    const { userId, order } = await placeOrder();
    const first = charged(order.id);
    await orderService.bus.publish(first);
    await eventually(
      async () => (await getOrder(userId, order.id)).body.status,
      (status) => status === 'CONFIRMED',
    );

    await orderService.bus.publish({ ...first, id: randomUUID() }); // a new event id gets past JetStream's duplicate window
    await orderService.bus.publish(charged(order.id));
    await settled();
    await orderService.settled('test-observer-orders');

    expect(await historyOf(userId, order.id)).toEqual([
      expect.objectContaining({ type: 'orders.placed', version: 1 }),
      expect.objectContaining({ type: 'orders.confirmed', version: 2 }),
    ]);
    expect(eventsOf(ordersSeen, order.id).map((e) => e.type)).toEqual(['orders.placed', 'orders.confirmed']);
  });

  it('when a decline arrives after the confirmation, then the order stays CONFIRMED', async () => {
    const { userId, order } = await placeOrder();
    await orderService.bus.publish(charged(order.id));
    await eventually(
      async () => (await getOrder(userId, order.id)).body.status,
      (status) => status === 'CONFIRMED',
    );
    await orderService.bus.publish(testEvent('payments.declined', { orderId: order.id, paymentId: randomUUID(), reason: 'late' }));
    await settled();
    expect((await getOrder(userId, order.id)).body.status).toBe('CONFIRMED');
    expect((await historyOf(userId, order.id)).map((e) => e.type)).toEqual(['orders.placed', 'orders.confirmed']);
  });

  it('when asked ?asOf= the time it was placed, before its confirmation, then the order is shown PENDING', async () => {
    const { userId, order } = await placeOrder();
    await orderService.bus.publish(charged(order.id));
    const confirmed = await eventually(
      async () => (await getOrder(userId, order.id)).body,
      (view) => view.status === 'CONFIRMED',
    );
    expect(Date.parse(confirmed.updatedAt)).toBeGreaterThan(Date.parse(order.createdAt));

    const then = await getOrder(userId, order.id, `?asOf=${encodeURIComponent(order.createdAt)}`);
    expect(then.status).toBe(200);
    expect(then.body.status).toBe('PENDING');
    expect((await getOrder(userId, order.id, `?asOf=${encodeURIComponent(new Date().toISOString())}`)).body.status).toBe('CONFIRMED');
  });
});
