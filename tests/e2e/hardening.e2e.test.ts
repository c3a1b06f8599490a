import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { partitionOf } from '@tracemart/contracts';
import { createLogger, EventBus, signAccessToken } from '@tracemart/platform';
import { startStack, type Stack } from '@tracemart/stack';
import { apiClient, eventually, repoRoot, signUp, type ApiClient } from '@tracemart/testing';

/**
 * Issue 12 through the whole stack: requests carrying NUL are refused with a JSON 400 and do not count against the
 * upstream's circuit breaker (NUL used to reach PostgreSQL under FerretDB and come back as a 500, so 50 of them opened
 * the breaker and took login down with them); admin names that are members of every JS object (`constructor`) are
 * unknown services, not a 500; and card tokens are never stored in clear in events (the ORDERS stream, the order event
 * store) nor left in the payment service's documents once the charge is decided.
 */
let stack: Stack;
let dataDir: string;
let mongo: MongoClient;
let api: ApiClient;
let shopper: Awaited<ReturnType<typeof signUp>>;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'tracemart-hardening-'));
  stack = await startStack({ root: repoRoot, dataDir, freePorts: true, ephemeral: true, natsNodes: 1, instances: 1, readyTimeoutMs: 200_000, env: { LOG_LEVEL: 'warn' } });
  mongo = await MongoClient.connect(stack.mongoUrl);
  api = apiClient(stack.gatewayUrl);
  shopper = await signUp(api, 'Hardy');
}, 300_000);

afterAll(async () => {
  await mongo?.close();
  await stack?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

type ErrorBody = { error: { code: string; message: string } };

/** The gateway's circuit breakers as its metrics show them: state per upstream (0 closed) and times each opened. */
async function breakers(): Promise<{ state: Record<string, number>; opened: Record<string, number> }> {
  const text = await (await fetch(`${stack.metricsUrls.gateway}/metrics`)).text();
  const state: Record<string, number> = {};
  const opened: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const upstream = /upstream="([^"]+)"/.exec(line)?.[1];
    const value = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (!upstream) continue;
    if (line.startsWith('tracemart_breaker_state')) state[upstream] = value;
    if (line.startsWith('tracemart_breaker_transitions') && line.includes('to="open"')) opened[upstream] = value;
  }
  return { state, opened };
}

const expectJsonError = (response: { status: number; body: unknown; headers: Headers }, status: number) => {
  expect(response.status).toBe(status);
  expect(response.headers.get('content-type')).toMatch(/^application\/json/);
  expect(response.body).toMatchObject({ error: { code: expect.any(String), message: expect.any(String) } });
};

describe('requests carrying NUL', () => {
  it('when 50 requests carry NUL in a query or a body, then each is a JSON 400, the breakers stay closed and login still works', async () => {
    const before = await breakers();
    // Traffic to both upstreams first, so that each breaker exists and its state is exported.
    expect((await api.get('/api/products?category=electronics')).status).toBe(200);
    for (let i = 0; i < 50; i++) {
      const [query, register] = await Promise.all([
        api.get<ErrorBody>('/api/products?category=%00electronics'),
        api.post<ErrorBody>('/api/users/register', { email: `nul-${i}-${Date.now()}@example.com`, password: 'long-enough-password', name: 'N\u0000L' }),
      ]);
      expectJsonError(query, 400);
      expectJsonError(register, 400);
      expect(register.body.error.code).toBe('REQUEST.CONTROL_CHARACTER');
    }
    const after = await breakers();
    expect(after.state).toMatchObject({ catalog: 0, user: 0 });
    for (const upstream of ['catalog', 'user']) expect(after.opened[upstream] ?? 0, `${upstream} breaker openings`).toBe(before.opened[upstream] ?? 0);

    const login = await api.post<{ token: string }>('/api/users/login', { email: shopper.email, password: shopper.password });
    expect(login.status).toBe(200);
    expect(login.body.token).toEqual(expect.any(String));
  });
});

describe('signed tokens naming odd subjects', () => {
  // The user service only issues uuids, so such a token means a leaked JWT_SECRET; the services behind must still not
  // pass a control character on to PostgreSQL (a 500, which the gateway's breakers count against the service).
  it.each(['a\u0000b', '\u001b[31m'])('when a validly signed token names the subject %j, then its reads answer 4xx, not 5xx', async (sub) => {
    const token = await signAccessToken({ sub, name: 'Odd' }, stack.jwtSecret, 600);
    for (const path of ['/api/users/me', '/api/orders', '/api/notifications']) {
      const response = await api.withToken(token).get(path);
      expect(response.status, `${path}: ${JSON.stringify(response.body)}`).toBeLessThan(500);
    }
  });
});

describe('admin service names', () => {
  const admin = (method: string, path: string, body?: unknown) =>
    fetch(`${stack.gatewayUrl}/admin${path}`, {
      method,
      headers: { 'x-admin-token': stack.adminToken, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });

  it('when the service named is "constructor" (a member of every object), then pausing, resuming, clearing or injecting answers 404 ADMIN.UNKNOWN_SERVICE, not a 500', async () => {
    const service = 'constructor';
    for (const response of [
      await admin('POST', '/consumers/pause', { service }),
      await admin('POST', '/consumers/resume', { service }),
      await admin('DELETE', `/faults?service=${service}`),
      await admin('POST', '/faults', { service, kind: 'error', durationSeconds: 1 }),
    ]) {
      expect(response.status).toBe(404);
      expect(await response.json()).toMatchObject({ error: { code: 'ADMIN.UNKNOWN_SERVICE' } });
    }
  });

  it('when "__proto__" is named, then it is no service name at all: a JSON 400', async () => {
    const response = await admin('POST', '/consumers/pause', { service: '__proto__' });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: { code: 'REQUEST.VALIDATION_FAILED' } });
  });
});

describe('card tokens', () => {
  interface Order {
    id: string;
    status: string;
    reason?: string;
  }
  const checkout = async (paymentToken: string): Promise<Order> => {
    const products = (await api.get<{ items: { id: string }[] }>('/api/products?limit=5')).body.items;
    // Keyed, so that a retry after a 503 (payments not yet healthy on a slow start) places one order.
    const key = `card-${paymentToken}-${Date.now()}`;
    const placed = await eventually(
      () => shopper.client.post<Order>('/api/orders', { items: [{ productId: products[0]?.id, quantity: 1 }], paymentToken }, { 'idempotency-key': key }),
      (answer) => answer.status === 202,
      60_000,
    );
    return eventually(
      async () => (await shopper.client.get<Order>(`/api/orders/${placed.body.id}`)).body,
      (order) => order.status !== 'PENDING',
      30_000,
    );
  };

  /** The stored orders.placed message of an order, as JetStream keeps it (subject transformed to its partition). */
  async function storedPlacedMessage(orderId: string): Promise<string> {
    const subject = `orders.placed.${partitionOf(orderId)}.${orderId}`;
    const bus = await EventBus.connect({ url: stack.natsUrl, name: 'e2e-card-tokens', logger: createLogger('e2e', 'silent') });
    try {
      const message = await bus.jsm.streams.getMessage('ORDERS', { last_by_subj: subject });
      if (!message) throw new Error(`no ${subject} in ORDERS`);
      return message.string();
    } finally {
      await bus.drain();
    }
  }

  it('when orders are paid with tok_visa and tok_chargeDeclined, then they confirm and decline as before, and no stream message, order event or payment document holds the token', async () => {
    const paid = await checkout('tok_visa');
    const declined = await checkout('tok_chargeDeclined');
    expect(paid.status).toBe('CONFIRMED');
    expect(declined).toMatchObject({ status: 'CANCELLED', reason: 'PAYMENT_DECLINED' });

    for (const order of [paid, declined]) {
      const message = await storedPlacedMessage(order.id);
      expect(message).toContain('paymentTokenSealed');
      expect(message).not.toContain('tok_');
      const events = await mongo.db('tracemart_order').collection('order_events').find({ streamId: order.id }).toArray();
      expect(events.map((e) => e.type)).toContain('orders.placed');
      expect(JSON.stringify(events)).not.toContain('tok_');
      const payment = await eventually(
        () =>
          mongo
            .db('tracemart_payment')
            .collection('payments')
            .findOne({ _id: order.id as never }),
        (doc) => doc !== null && doc.status !== 'AWAITING_STOCK',
      );
      expect(payment).not.toHaveProperty('sealedToken');
      expect(payment).not.toHaveProperty('token');
    }
  });
});
