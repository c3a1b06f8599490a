import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import type { RunningGateway } from '../src/start';
import { call, json, sleep, startGateway, startStub, tokenFor, until, type Stub } from './support';

const started: { stop: () => Promise<unknown> }[] = [];
const track = <T extends { stop: () => Promise<unknown> } | Stub>(thing: T): T => {
  started.push('stop' in thing ? thing : { stop: thing.close });
  return thing;
};
const stub = async (...args: Parameters<typeof startStub>) => track(await startStub(...args));
const gateway = async (...args: Parameters<typeof startGateway>): Promise<RunningGateway> => track(await startGateway(...args));

afterEach(async () => {
  for (const thing of started.splice(0).reverse()) await thing.stop();
});

describe('circuit breaker', () => {
  it('when failures pass the threshold, then it opens and rejects fast, then half-opens and closes once the upstream recovers', async () => {
    const notification = await stub((_req, res) => json(res, 500, { error: { code: 'INTERNAL' } }));
    const gw = await gateway({ NOTIFICATION_URL: notification.url }, { BREAKER_VOLUME_THRESHOLD: '4', BREAKER_ERROR_PERCENT: '50', BREAKER_RESET_MS: '400', RETRY_ATTEMPTS: '1' });
    const token = await tokenFor('u1');
    const get = () => call(`${gw.url}/api/notifications`, { token });

    for (let i = 0; i < 4; i++) expect((await get()).status).toBe(500);
    expect(notification.hits()).toBe(4);

    const rejected = await get();
    expect(rejected.status).toBe(503);
    expect(rejected.body).toMatchObject({ error: { code: 'GATEWAY.CIRCUIT_OPEN', details: { dependency: 'notification' } } });
    expect(rejected.headers.get('retry-after')).toBe('1');
    expect(rejected.elapsedMs).toBeLessThan(250); // no upstream call: far below any call timeout, with room for a busy CI machine
    expect(notification.hits()).toBe(4);

    notification.handle((_req, res) => json(res, 200, { items: [] }));
    await sleep(450);
    const probe = await get();
    expect(probe.status).toBe(200);
    expect(notification.hits()).toBe(5);
    expect((await get()).status).toBe(200);
    expect(notification.hits()).toBe(6);
  });

  it('when the half-open probe fails, then the breaker opens again', async () => {
    const notification = await stub((_req, res) => json(res, 503, {}));
    const gw = await gateway({ NOTIFICATION_URL: notification.url }, { BREAKER_VOLUME_THRESHOLD: '2', BREAKER_RESET_MS: '300', RETRY_ATTEMPTS: '1' });
    const token = await tokenFor('u1');
    const get = () => call(`${gw.url}/api/notifications`, { token });
    await get();
    await get();
    expect((await get()).body).toMatchObject({ error: { code: 'GATEWAY.CIRCUIT_OPEN' } });
    await sleep(350);
    expect((await get()).status).toBe(503);
    expect(notification.hits()).toBe(3);
    expect((await get()).body).toMatchObject({ error: { code: 'GATEWAY.CIRCUIT_OPEN' } });
    expect(notification.hits()).toBe(3);
  });
});

describe('bulkhead', () => {
  it('when an upstream has its concurrency and queue full, then more requests get 503 + Retry-After while another upstream keeps serving', async () => {
    const held: (() => void)[] = [];
    const catalog = await stub((_req, res) => held.push(() => json(res, 200, { items: [] })));
    const inventory = await stub();
    const gw = await gateway({ CATALOG_URL: catalog.url, INVENTORY_URL: inventory.url }, { BULKHEAD_MAX_CONCURRENT: '2', BULKHEAD_MAX_QUEUE: '1' });

    const inFlight = [1, 2, 3].map((i) => call(`${gw.url}/api/products?page=${i}`));
    await until(() => held.length === 2);
    const rejected = await call(`${gw.url}/api/products?page=4`);
    expect(rejected.status).toBe(503);
    expect(rejected.body).toMatchObject({ error: { code: 'DEPENDENCY.BULKHEAD_FULL', details: { dependency: 'catalog' } } });
    expect(rejected.headers.get('retry-after')).toBe('1');

    const other = await call(`${gw.url}/api/inventory/p1`);
    expect(other.status).toBe(200);

    catalog.handle((_req, res) => json(res, 200, { items: [] }));
    for (const release of held.splice(0)) release();
    expect((await Promise.all(inFlight)).map((r) => r.status)).toEqual([200, 200, 200]);
  });
});

describe('retries', () => {
  const failing = async () => stub((_req, res) => json(res, 503, { error: { code: 'DOWN' } }));
  const settings = { RETRY_ATTEMPTS: '3', RETRY_BASE_MS: '10', RETRY_MAX_MS: '50', BREAKER_VOLUME_THRESHOLD: '1000' };

  it('when a GET fails with 503, then it is retried up to the attempt limit', async () => {
    const catalog = await failing();
    const gw = await gateway({ CATALOG_URL: catalog.url }, settings);
    expect((await call(`${gw.url}/api/products`)).status).toBe(503);
    expect(catalog.hits('/products')).toBe(3);
  });

  it('when a GET fails once, then the retry answers', async () => {
    let calls = 0;
    const catalog = await stub((_req, res) => (++calls === 1 ? json(res, 502, {}) : json(res, 200, { items: [] })));
    const gw = await gateway({ CATALOG_URL: catalog.url }, settings);
    expect((await call(`${gw.url}/api/products`)).status).toBe(200);
    expect(calls).toBe(2);
  });

  it('when a POST has no Idempotency-Key, then it is sent once; with one, it is retried', async () => {
    const order = await failing();
    const payment = await stub();
    const gw = await gateway({ ORDER_URL: order.url, PAYMENT_URL: payment.url }, settings);
    const token = await tokenFor('u1');
    const body = JSON.stringify({ items: [{ productId: 'p1', quantity: 1 }], paymentToken: 'tok_visa' });

    expect((await call(`${gw.url}/api/orders`, { method: 'POST', token, body })).status).toBe(503);
    expect(order.hits('/orders')).toBe(1);

    expect((await call(`${gw.url}/api/orders`, { method: 'POST', token, body, headers: { 'idempotency-key': 'k-1' } })).status).toBe(503);
    expect(order.hits('/orders')).toBe(4);

    const user = await failing();
    const gw2 = await gateway({ USER_URL: user.url }, settings);
    expect((await call(`${gw2.url}/api/users/login`, { method: 'POST', body: '{}' })).status).toBe(503);
    expect(user.hits('/users/login')).toBe(1);
  });

  it('when retries would outlast the request deadline, then they stop at the deadline', async () => {
    const catalog = await stub((_req, res) => setTimeout(() => json(res, 503, {}), 80));
    const gw = await gateway({ CATALOG_URL: catalog.url }, { ...settings, RETRY_ATTEMPTS: '10', RETRY_BASE_MS: '100', RETRY_MAX_MS: '100', REQUEST_DEADLINE_MS: '400' });
    const answer = await call(`${gw.url}/api/products`);
    expect(answer.status).toBe(503);
    expect(answer.elapsedMs).toBeLessThan(800);
    // 10 attempts were allowed; the 400 ms deadline leaves room for at most 5 (80 ms each plus jittered waits).
    expect(catalog.hits('/products')).toBeGreaterThanOrEqual(2);
    expect(catalog.hits('/products')).toBeLessThanOrEqual(5);
  });
});

describe('rate limiting', () => {
  it('when a caller exceeds its bucket, then 429 with Retry-After; another user is unaffected', async () => {
    const notification = await stub();
    const gw = await gateway({ NOTIFICATION_URL: notification.url, CATALOG_URL: notification.url }, { RATE_LIMIT_PER_SECOND: '0.05', RATE_LIMIT_BURST: '3' });
    const alice = await tokenFor('alice');
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await call(`${gw.url}/api/notifications`, { token: alice })).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
    const limited = await call(`${gw.url}/api/notifications`, { token: alice });
    expect(limited.body).toMatchObject({ error: { code: 'RATE_LIMITED' } });
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect((await call(`${gw.url}/api/notifications`, { token: await tokenFor('bob') })).status).toBe(200);
    expect((await call(`${gw.url}/livez`)).status).toBe(200);
  });

  it('when an anonymous caller sends a new X-Forwarded-For with every request, then it is still limited as one client unless it is a trusted proxy', async () => {
    const catalog = await stub((_req, res) => json(res, 200, { items: [], total: 0 }));
    const limits = { RATE_LIMIT_PER_SECOND: '0.05', RATE_LIMIT_BURST: '3' };
    const rotating = async (url: string) => {
      const statuses: number[] = [];
      for (let i = 0; i < 6; i++) statuses.push((await call(`${url}/api/products`, { headers: { 'x-forwarded-for': `203.0.113.${i + 1}` } })).status);
      return statuses;
    };
    const untrusted = await gateway({ CATALOG_URL: catalog.url }, limits);
    expect(await rotating(untrusted.url)).toEqual([200, 200, 200, 429, 429, 429]);
    // The same requests through a gateway told that this (loopback) peer is its proxy: each header is a client.
    const behindProxy = await gateway({ CATALOG_URL: catalog.url }, { ...limits, TRUSTED_PROXIES: '127.0.0.1/8, ::1' });
    expect(await rotating(behindProxy.url)).toEqual([200, 200, 200, 200, 200, 200]);
  });
});

/** A GET sent with its path exactly as written (fetch would resolve `%2e%2e` before sending). */
function rawGet(base: string, path: string, token: string): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request({ hostname, port, path, headers: { authorization: `Bearer ${token}` } }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('path normalisation', () => {
  it('when a path holds a dot segment, plain or percent-encoded, then 400 and nothing is forwarded', async () => {
    const order = await stub();
    const gw = await gateway({ ORDER_URL: order.url });
    const token = await tokenFor('alice');
    for (const path of ['/api/orders/%2e%2e/history', '/api/orders/%2E%2e/history', '/api/orders/../history', '/api/orders/./history', '/api/orders/.%2e/history']) {
      const answer = await rawGet(gw.url, path, token);
      expect(answer.status, path).toBe(400);
      expect(JSON.parse(answer.body), path).toMatchObject({ error: { code: 'REQUEST.DOT_SEGMENT' } });
    }
    expect(order.hits()).toBe(0);
    // A dot inside a segment is an ordinary character.
    expect((await rawGet(gw.url, '/api/orders/a.b/history', token)).status).toBe(200);
  });
});

describe('graceful degradation of product reads', () => {
  it('when catalog goes down, then the last good answer is served marked stale; unseen products still fail with 503', async () => {
    const catalog = await stub((req, res) => json(res, 200, { id: req.url?.split('/').pop(), priceCents: 1_000 }));
    const inventory = await stub((req, res) => json(res, 200, { productId: req.url?.split('/').pop(), available: 5 }));
    const gw = await gateway({ CATALOG_URL: catalog.url, INVENTORY_URL: inventory.url }, { RETRY_ATTEMPTS: '1', BREAKER_VOLUME_THRESHOLD: '3', BREAKER_RESET_MS: '60000' });
    const fresh = await call(`${gw.url}/api/products/p1`);
    expect(fresh.status).toBe(200);
    expect(fresh.headers.get('x-cache')).toBeNull();
    expect((await call(`${gw.url}/api/inventory/p1`)).status).toBe(200);

    catalog.handle((_req, res) => json(res, 503, { error: { code: 'FAULT.OUTAGE' } }));
    await inventory.close();
    const stale = await call(`${gw.url}/api/products/p1`);
    expect(stale.status).toBe(200);
    expect(stale.body).toEqual({ id: 'p1', priceCents: 1_000 });
    expect(stale.headers.get('x-cache')).toBe('stale');
    expect(stale.headers.get('warning')).toBe('110 - "Response is Stale"');
    const staleStock = await call(`${gw.url}/api/inventory/p1`);
    expect(staleStock.status).toBe(200);
    expect(staleStock.headers.get('x-cache')).toBe('stale');

    expect((await call(`${gw.url}/api/products/never-seen`)).status).toBe(503);
    // With the breaker open the stale answer comes without asking catalog at all.
    const hitsBefore = catalog.hits();
    const fast = await call(`${gw.url}/api/products/p1`);
    expect(fast.headers.get('x-cache')).toBe('stale');
    expect(catalog.hits()).toBe(hitsBefore);
  });
});

describe('load balancing', () => {
  it('when one instance fails, then it is ejected and the healthy instance serves every request', async () => {
    const down = await stub((_req, res) => json(res, 503, {}));
    const up = await stub();
    const gw = await gateway({ CATALOG_URL: `${down.url},${up.url}` }, { EJECTION_COOLDOWN_MS: '60000', BREAKER_VOLUME_THRESHOLD: '1000' });
    const statuses = [];
    for (let i = 0; i < 10; i++) statuses.push((await call(`${gw.url}/api/products/p${i}`)).status);
    expect(statuses.every((s) => s === 200)).toBe(true);
    expect(down.hits()).toBeLessThanOrEqual(1);
    expect(up.hits()).toBeGreaterThanOrEqual(10);
  });

  it('when an instance fails its /readyz probe, then it gets no traffic at all; a closed port is skipped too', async () => {
    const notReady = await stub();
    notReady.probes.ready = false;
    const gone = await startStub();
    await gone.close();
    const up = await stub();
    const gw = await gateway({ CATALOG_URL: `${notReady.url},${gone.url},${up.url}` }, { HEALTH_PROBE_INTERVAL_MS: '50' });
    await until(() => notReady.hits('/readyz') >= 2);
    await sleep(50);
    const statuses = [];
    for (let i = 0; i < 6; i++) statuses.push((await call(`${gw.url}/api/products`)).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 200]);
    expect(up.hits()).toBe(6);
    expect(notReady.hits()).toBe(0);

    notReady.probes.ready = true;
    const probed = notReady.hits('/readyz');
    await until(() => notReady.hits('/readyz') >= probed + 2);
    for (let i = 0; i < 4; i++) await call(`${gw.url}/api/products`);
    expect(notReady.hits()).toBeGreaterThan(0);
  });
});

describe('checkout while payments are down', () => {
  const body = JSON.stringify({ items: [{ productId: 'p1', quantity: 1 }], paymentToken: 'tok_visa' });

  it('when the payment probe says open, then checkout answers a fast 503 naming payment; once closed, checkout goes through', async () => {
    const payment = await stub();
    const order = await stub((_req, res) => json(res, 202, { id: 'o1', status: 'PENDING' }));
    payment.probes.processor = 'open';
    const gw = await gateway({ PAYMENT_URL: payment.url, ORDER_URL: order.url }, { PAYMENT_PROBE_INTERVAL_MS: '50' });
    const token = await tokenFor('u1');
    // Probes are sent every 50 ms: by the third, the answer to the first has been applied.
    await until(() => payment.hits('/payments/health') >= 3);

    const refused = await call(`${gw.url}/api/orders`, { method: 'POST', token, body, headers: { 'idempotency-key': 'k1' } });
    expect(refused.status).toBe(503);
    expect(refused.body).toEqual({ error: { code: 'DEPENDENCY.UNAVAILABLE', message: 'payment is unavailable', details: { dependency: 'payment' } } });
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(refused.elapsedMs).toBeLessThan(250);
    expect(order.hits()).toBe(0);
    // Reads of orders do not depend on payment.
    expect((await call(`${gw.url}/api/orders`, { token })).status).toBe(202);

    payment.probes.processor = 'closed';
    const seen = payment.hits('/payments/health');
    await until(() => payment.hits('/payments/health') >= seen + 3);
    expect((await call(`${gw.url}/api/orders`, { method: 'POST', token, body })).status).toBe(202);
  });

  it('when the payment process stops answering its probe, then checkout is refused too', async () => {
    const payment = await stub();
    const order = await stub((_req, res) => json(res, 202, { id: 'o1' }));
    const gw = await gateway({ PAYMENT_URL: payment.url, ORDER_URL: order.url }, { PAYMENT_PROBE_INTERVAL_MS: '50' });
    const token = await tokenFor('u1');
    await until(() => payment.hits('/payments/health') >= 1);
    expect((await call(`${gw.url}/api/orders`, { method: 'POST', token, body })).status).toBe(202);
    payment.probes.processor = undefined;
    const seen = payment.hits('/payments/health');
    await until(() => payment.hits('/payments/health') >= seen + 4); // two failed probes, answered
    const refused = await call(`${gw.url}/api/orders`, { method: 'POST', token, body });
    expect(refused.status).toBe(503);
    expect(refused.body).toMatchObject({ error: { code: 'DEPENDENCY.UNAVAILABLE', details: { dependency: 'payment' } } });
  });
});

describe('log-in throttling per client address', () => {
  it('when one address fails to log in more than 20 times, then further attempts get 429 with Retry-After without reaching the user service', async () => {
    const user = await stub((_req, res) => json(res, 401, { error: { code: 'AUTH.INVALID_CREDENTIALS', message: 'invalid email or password' } }));
    const gw = await gateway({ USER_URL: user.url });
    const statuses: number[] = [];
    for (let i = 0; i < 25; i++) {
      const body = JSON.stringify({ email: `victim-${i}@example.com`, password: 'guess' });
      statuses.push((await call(`${gw.url}/api/users/login`, { method: 'POST', body, headers: { 'content-type': 'application/json' } })).status);
    }
    expect(statuses.slice(0, 20)).toEqual(Array.from({ length: 20 }, () => 401));
    expect(statuses.slice(20)).toEqual([429, 429, 429, 429, 429]);
    expect(user.hits('/users/login')).toBe(20);
    const limited = await call(`${gw.url}/api/users/login`, {
      method: 'POST',
      body: JSON.stringify({ email: 'a@example.com', password: 'x' }),
      headers: { 'content-type': 'application/json' },
    });
    expect(limited.body).toMatchObject({ error: { code: 'AUTH.TOO_MANY_ATTEMPTS' } });
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
  });
});
