import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '@tracemart/stack';
import { connectMongo, createLogger, EventBus } from '@tracemart/platform';
import { validateEvent } from '@tracemart/contracts';
import { createOrderProjector } from '@tracemart/order-service/projections';
import { rebuildOrderSummaries } from '../../scripts/projections/rebuild';
import { apiClient, signUp, type ApiClient, eventually, groupSettled, repoRoot } from '@tracemart/testing';

interface Order {
  id: string;
  status: 'PENDING' | 'CONFIRMED' | 'CANCELLED';
  totalCents: number;
  reason?: string;
  items: { productId: string; quantity: number; unitPriceCents: number }[];
}
interface Product {
  id: string;
  name: string;
  category: string;
  priceCents: number;
}
interface Stock {
  productId: string;
  available: number;
  reserved: number;
}

let stack: Stack;
let dataDir: string;
let api: ApiClient;
let alice: Awaited<ReturnType<typeof signUp>>;
let bob: Awaited<ReturnType<typeof signUp>>;
let products: Product[];

const stockOf = async (productId: string) => (await api.get<Stock>(`/api/inventory/${productId}`)).body;
/** Inventory applies orders.confirmed / orders.cancelled asynchronously, after the order is terminal: wait for it to settle. */
const settledStock = (productId: string, expected: Omit<Stock, 'productId'>) =>
  eventually(
    () => stockOf(productId),
    (stock) => stock.available === expected.available && stock.reserved === expected.reserved,
  );
const terminal = (client: ApiClient, id: string) =>
  eventually(
    async () => (await client.get<Order>(`/api/orders/${id}`)).body,
    (order) => order.status !== 'PENDING',
    20_000,
  );

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'tracemart-e2e-'));
  stack = await startStack({ root: repoRoot, dataDir, freePorts: true, env: { LOG_LEVEL: 'info' }, readyTimeoutMs: 90_000 });
  api = apiClient(stack.gatewayUrl);
  alice = await signUp(api, 'Alice');
  bob = await signUp(api, 'Bob');
  products = (await api.get<{ items: Product[]; total: number }>('/api/products?limit=100')).body.items;
});

afterAll(async () => {
  await stack?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

describe('the order saga through the gateway', () => {
  it('when browsing, then the seeded catalog lists, pages, filters and searches', async () => {
    const all = await api.get<{ items: Product[]; total: number }>('/api/products?limit=10&page=2');
    expect(all.status).toBe(200);
    expect(all.body.total).toBeGreaterThanOrEqual(50);
    expect(all.body.items).toHaveLength(10);
    expect(new Set(products.map((p) => p.category)).size).toBeGreaterThanOrEqual(5);
    const books = await api.get<{ items: Product[] }>('/api/products?category=books');
    expect(books.body.items.length).toBeGreaterThan(0);
    expect(books.body.items.every((p) => p.category === 'books')).toBe(true);
    const search = await api.get<{ items: Product[] }>('/api/products?search=grinder');
    expect(search.body.items.map((p) => p.name)).toContain('Burr Grinder');
    const one = await api.get<Product>(`/api/products/${products[0]?.id}`);
    expect(one.body).toMatchObject({ id: products[0]?.id, priceCents: expect.any(Number) });
    expect(one.headers.get('x-trace-id')).toMatch(/^[0-9a-f]{32}$/);
  });

  it('when a user asks who they are, then the token identifies them', async () => {
    const me = await alice.client.get('/api/users/me');
    expect(me.body).toMatchObject({ id: alice.id, email: alice.email, name: 'Alice' });
  });

  it('when an order is paid with tok_visa, then it is CONFIRMED and stock is decremented', async () => {
    const product = products[2] as Product;
    const before = await stockOf(product.id);
    const placed = await alice.client.post<Order>('/api/orders', { items: [{ productId: product.id, quantity: 2 }], paymentToken: 'tok_visa' });
    expect(placed.status).toBe(202);
    expect(placed.body).toMatchObject({ status: 'PENDING', totalCents: 2 * product.priceCents });
    const order = await terminal(alice.client, placed.body.id);
    expect(order.status).toBe('CONFIRMED');
    expect(await settledStock(product.id, { available: before.available - 2, reserved: before.reserved })).toEqual({
      productId: product.id,
      available: before.available - 2,
      reserved: before.reserved,
    });
  });

  it('when the card is declined, then the order is CANCELLED and the reservation is released', async () => {
    const product = products[3] as Product;
    const before = await stockOf(product.id);
    const placed = await alice.client.post<Order>('/api/orders', { items: [{ productId: product.id, quantity: 1 }], paymentToken: 'tok_chargeDeclined' });
    const order = await terminal(alice.client, placed.body.id);
    expect(order).toMatchObject({ status: 'CANCELLED', reason: 'PAYMENT_DECLINED' });
    expect(await settledStock(product.id, before)).toEqual(before);
  });

  it('when more than the stock is ordered, then the order is CANCELLED as out of stock', async () => {
    const product = products[4] as Product;
    const before = await stockOf(product.id);
    const placed = await bob.client.post<Order>('/api/orders', { items: [{ productId: product.id, quantity: Math.min(100, before.available + 1) }], paymentToken: 'tok_visa' });
    expect(before.available + 1).toBeLessThanOrEqual(100);
    const order = await terminal(bob.client, placed.body.id);
    expect(order).toMatchObject({ status: 'CANCELLED', reason: 'OUT_OF_STOCK' });
    expect(await stockOf(product.id)).toEqual(before);
  });

  it('when concurrent orders race for the last units, then exactly the available number confirm', async () => {
    const product = products[5] as Product;
    const { available } = await stockOf(product.id);
    const leave = 3;
    const first = await bob.client.post<Order>('/api/orders', { items: [{ productId: product.id, quantity: available - leave }], paymentToken: 'tok_visa' });
    expect((await terminal(bob.client, first.body.id)).status).toBe('CONFIRMED');
    const racers = await Promise.all(
      Array.from({ length: 10 }, (_, i) => (i % 2 ? alice : bob).client.post<Order>('/api/orders', { items: [{ productId: product.id, quantity: 1 }], paymentToken: 'tok_visa' })),
    );
    expect(racers.every((r) => r.status === 202)).toBe(true);
    const outcomes = await Promise.all(racers.map((r, i) => terminal((i % 2 ? alice : bob).client, r.body.id)));
    expect(outcomes.filter((o) => o.status === 'CONFIRMED')).toHaveLength(leave);
    expect(outcomes.filter((o) => o.reason === 'OUT_OF_STOCK')).toHaveLength(10 - leave);
    expect(await settledStock(product.id, { available: 0, reserved: 0 })).toMatchObject({ available: 0, reserved: 0 });
  });

  it('when users read their notifications and orders, then each sees only their own', async () => {
    const aliceNotes = await eventually(
      async () => (await alice.client.get<{ items: { kind: string; orderId: string }[] }>('/api/notifications')).body.items,
      (items) => items.some((n) => n.kind === 'order-confirmed') && items.some((n) => n.kind === 'order-cancelled'),
    );
    const bobNotes = await eventually(
      async () => (await bob.client.get<{ items: { orderId: string }[] }>('/api/notifications')).body.items,
      (items) => items.length > 0,
    );
    expect(bobNotes.length).toBeGreaterThan(0);
    // The order list is a read model that lags the saga: wait until it holds every order alice was notified about.
    const aliceOrders = await eventually(
      async () => (await alice.client.get<{ items: Order[] }>('/api/orders')).body.items,
      (orders) => aliceNotes.every((n) => orders.some((o) => o.id === n.orderId)),
    );
    const bobOrders = await eventually(
      async () => (await bob.client.get<{ items: Order[] }>('/api/orders')).body.items,
      (orders) => orders.length > 0,
    );
    const aliceIds = new Set(aliceOrders.map((o) => o.id));
    expect(bobOrders.some((o) => aliceIds.has(o.id))).toBe(false);
    expect(aliceNotes.every((n) => aliceIds.has(n.orderId))).toBe(true);
    const someoneElses = bobOrders[0] as Order;
    const peek = await alice.client.get(`/api/orders/${someoneElses.id}`);
    expect(peek.status).toBe(404);
  });
});

describe('bad input is refused with a clear 4xx and changes nothing', () => {
  let bus: EventBus;
  beforeAll(async () => {
    bus = await EventBus.connect({ url: stack.natsUrl, name: 'e2e-bad-input', logger: createLogger('e2e', 'silent') });
  });
  afterAll(async () => {
    await bus?.drain();
  });
  /** The order list is a read model that lags the saga: count once its projector has applied every event published so far. */
  const orderCount = async () => {
    for (const stream of ['ORDERS', 'INVENTORY', 'PAYMENTS', 'NOTIFICATIONS']) await groupSettled(bus, stream, `order-summary-${stream.toLowerCase()}`);
    return (await alice.client.get<{ items: Order[] }>('/api/orders')).body.items.length;
  };
  const validItem = () => ({ productId: (products[6] as Product).id, quantity: 1 });

  it('when order bodies are malformed, then each gets a 4xx JSON error and no order or stock changes', async () => {
    const before = await orderCount();
    const stockBefore = await stockOf(validItem().productId);
    const cases: [string, unknown, number][] = [
      ['malformed JSON', '{"items": [', 400],
      ['missing items', { paymentToken: 'tok_visa' }, 400],
      ['wrong type', { items: 'many', paymentToken: 'tok_visa' }, 400],
      ['zero quantity', { items: [{ ...validItem(), quantity: 0 }], paymentToken: 'tok_visa' }, 400],
      ['negative quantity', { items: [{ ...validItem(), quantity: -3 }], paymentToken: 'tok_visa' }, 400],
      ['huge quantity', { items: [{ ...validItem(), quantity: 1e12 }], paymentToken: 'tok_visa' }, 400],
      ['fractional quantity', { items: [{ ...validItem(), quantity: 1.5 }], paymentToken: 'tok_visa' }, 400],
      ['unknown product', { items: [{ productId: 'no-such-product', quantity: 1 }], paymentToken: 'tok_visa' }, 422],
      ['operator in a field', { items: [{ productId: { $ne: null }, quantity: 1 }], paymentToken: 'tok_visa' }, 400],
      ['operator key at top level', { $where: 'sleep(1)', items: [validItem()], paymentToken: 'tok_visa' }, 400],
      ['unknown payment token', { items: [validItem()], paymentToken: 'tok_stolen' }, 400],
      ['oversize body', { items: [validItem()], paymentToken: 'tok_visa', pad: 'x'.repeat(200_000) }, 413],
    ];
    for (const [name, body, status] of cases) {
      const response = await alice.client.post('/api/orders', body);
      expect(response.status, name).toBe(status);
      expect(response.body, name).toMatchObject({ error: { code: expect.any(String), message: expect.any(String) } });
    }
    expect(await orderCount()).toBe(before);
    expect(await stockOf(validItem().productId)).toEqual(stockBefore);
  });

  it('when registration or login input is bad, then 4xx without saying which credential was wrong', async () => {
    expect((await api.post('/api/users/register', { email: 'not-an-email', password: 'long enough', name: 'X' })).status).toBe(400);
    expect((await api.post('/api/users/register', { email: { $gt: '' }, password: 'long enough', name: 'X' })).status).toBe(400);
    expect((await api.post('/api/users/register', { email: alice.email, password: 'another password', name: 'Alice 2' })).status).toBe(409);
    const wrongPassword = await api.post('/api/users/login', { email: alice.email, password: 'wrong password' });
    const unknownEmail = await api.post('/api/users/login', { email: 'nobody@example.com', password: 'wrong password' });
    expect(wrongPassword.status).toBe(401);
    expect(unknownEmail.status).toBe(401);
    expect(wrongPassword.body).toEqual(unknownEmail.body);
    expect((await api.post('/api/users/login', { email: { $ne: null }, password: { $ne: null } })).status).toBe(400);
  });

  it('when personal data or a 401 is answered, then the headers keep caches and browsers from misusing it', async () => {
    const mine = await alice.client.get('/api/orders');
    expect(mine.status).toBe(200);
    expect(mine.headers.get('cache-control')).toBe('no-store');
    expect(mine.headers.get('x-content-type-options')).toBe('nosniff');
    const anonymous = await api.get('/api/orders');
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toBe('Bearer realm="tracemart"');
    // Public catalog reads stay cacheable by whatever the catalog says.
    expect((await api.get('/api/products?limit=1')).headers.get('cache-control')).not.toBe('no-store');
  });

  it('when a checkout is retried with the same Idempotency-Key, then the client gets the first order back, marked idempotent-replayed', async () => {
    const key = `replay-${Date.now()}`;
    const body = { items: [validItem()], paymentToken: 'tok_visa' };
    const first = await alice.client.post<Order>('/api/orders', body, { 'idempotency-key': key });
    const again = await alice.client.post<Order>('/api/orders', body, { 'idempotency-key': key });
    expect(first.status).toBe(202);
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    expect(again.body.id).toBe(first.body.id);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
  });

  it('when the stack starts, then its admin token is random: the well-known dev token of earlier versions is refused everywhere', async () => {
    expect(stack.adminToken).toMatch(/^[0-9a-f]{32}$/);
    for (const url of [stack.gatewayUrl, ...Object.values(stack.urls)]) {
      const refused = await fetch(`${url}/admin/faults`, { headers: { 'x-admin-token': 'dev-admin-token' } });
      expect(refused.status, url).toBe(403);
      expect((await fetch(`${url}/admin/faults`, { headers: { 'x-admin-token': stack.adminToken } })).status, url).toBe(200);
    }
  });

  it('when the admin API is asked for a service named like an Object member, then 404, not 500', async () => {
    // `constructor` passes the name pattern and used to resolve to Object.prototype.constructor.
    for (const [method, path, body] of [
      ['POST', '/admin/consumers/pause', { service: 'constructor' }],
      ['DELETE', '/admin/faults?service=constructor', undefined],
    ] as const) {
      const answer = await fetch(`${stack.gatewayUrl}${path}`, {
        method,
        headers: { 'x-admin-token': stack.adminToken, 'content-type': 'application/json' },
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
      expect(answer.status, `${method} ${path}`).toBe(404);
      expect(await answer.json()).toMatchObject({ error: { code: 'ADMIN.UNKNOWN_SERVICE' } });
    }
  });

  it('when a string, query parameter or path holds a NUL or another control character, then 400 before any database sees it', async () => {
    const email = `nul-${Date.now()}@example.com`;
    const attempts = [
      await api.post('/api/users/register', { email, password: 'long enough', name: 'N\u0000L' }),
      await api.post('/api/users/register', { email, password: 'long enough', name: 'bell\u0007' }),
      await api.get('/api/products?category=%00electronics'),
      await api.get('/api/products/%00'),
      await api.get('/api/inventory/%1Bstock'),
      await alice.client.post('/api/orders', { items: [{ productId: 'a\u0000b', quantity: 1 }], paymentToken: 'tok_visa' }),
      await alice.client.get('/api/orders/%00'),
    ];
    for (const answer of attempts) {
      expect(answer.status, JSON.stringify(answer.body)).toBe(400);
      expect(answer.body).toMatchObject({ error: { code: 'REQUEST.CONTROL_CHARACTER' } });
    }
    // Nothing was written: the address is still free.
    expect((await api.post('/api/users/register', { email, password: 'long enough', name: 'Plain' })).status).toBe(201);
  });

  it('when the JWT is missing, forged or expired, then 401', async () => {
    const body = { items: [validItem()], paymentToken: 'tok_visa' };
    expect((await api.post('/api/orders', body)).status).toBe(401);
    expect((await api.withToken('not.a.jwt').post('/api/orders', body)).status).toBe(401);
    const { SignJWT } = await import('jose');
    const key = new TextEncoder().encode(stack.jwtSecret);
    const expired = await new SignJWT({ name: 'Alice' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(alice.id)
      .setIssuer('tracemart-user')
      .setAudience('tracemart')
      .setIssuedAt(Math.floor(Date.now() / 1000) - 3600)
      .setExpirationTime(Math.floor(Date.now() / 1000) - 60)
      .sign(key);
    const expiredAnswer = await api.withToken(expired).get('/api/orders');
    expect(expiredAnswer.status).toBe(401);
    expect(expiredAnswer.body).toMatchObject({ error: { code: 'AUTH.TOKEN_EXPIRED' } });
    const forged = await new SignJWT({ name: 'Mallory' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(alice.id)
      .setIssuer('tracemart-user')
      .setAudience('tracemart')
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode('y'.repeat(32)));
    expect((await api.withToken(forged).get('/api/orders')).status).toBe(401);
  });

  it('when a client sends its own x-user-id header, then the gateway ignores it', async () => {
    const spoof = await api.get('/api/orders', { 'x-user-id': alice.id });
    expect(spoof.status).toBe(401);
  });
});

describe('CQRS read model replay', () => {
  it('when the order summaries are rebuilt from the full JetStream history, then they equal the live read model', async () => {
    const mongo = await connectMongo(stack.mongoUrl, 'tracemart_order', 'e2e');
    const bus = await EventBus.connect({ url: stack.natsUrl, name: 'e2e-rebuild', logger: createLogger('e2e', 'silent') });
    try {
      const live = createOrderProjector(mongo.db);
      // Wait until the whole system is quiet: every consumer of every stream has nothing pending or
      // unacknowledged, twice in a row (the rate-limited notification service publishes late).
      const backlog = async () => {
        let total = 0;
        for (const stream of ['ORDERS', 'INVENTORY', 'PAYMENTS', 'NOTIFICATIONS']) {
          for await (const info of bus.jsm.consumers.list(stream)) total += info.num_pending + info.num_ack_pending;
        }
        return total;
      };
      let quietRounds = 0;
      await eventually(
        async () => {
          quietRounds = (await backlog()) === 0 ? quietRounds + 1 : 0;
          if (quietRounds < 3) await new Promise((r) => setTimeout(r, 300));
          return quietRounds;
        },
        (n) => n >= 3,
        60_000,
      );
      const before = await live.all();
      expect(before.length).toBeGreaterThanOrEqual(10);
      const applied = await rebuildOrderSummaries({
        bus,
        db: mongo.db,
        into: 'order_summaries_rebuilt',
        streams: ['ORDERS', 'INVENTORY', 'PAYMENTS', 'NOTIFICATIONS'],
        decode: validateEvent,
      });
      expect(applied).toBeGreaterThan(before.length);
      const rebuilt = await createOrderProjector(mongo.db, 'order_summaries_rebuilt').all();
      expect(rebuilt).toEqual(before);
      expect(before.some((o) => o.status === 'CONFIRMED' && o.paymentStatus === 'CHARGED' && o.notifications.includes('order-confirmed'))).toBe(true);
    } finally {
      await bus.drain();
      await mongo.close();
    }
  });
});

describe('no process crashed', () => {
  it('when all of the above has run, then every process is still alive', () => {
    for (const proc of stack.processes.values()) expect(proc.child.exitCode, proc.name).toBeNull();
  });
});
