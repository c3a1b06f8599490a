import { afterEach, describe, expect, it } from 'vitest';
import { ADMIN_RATE, createBaseApp, createLogger, FaultInjector, faultAdminRouter, finishApp, listen, type RunningServer } from '@tracemart/platform';
import { ADMIN_TOKEN, call, sleep, startGateway, startStub, tokenFor, until } from './support';

const stops: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const stop of stops.splice(0).reverse()) await stop();
});

const admin = (token: string | undefined = ADMIN_TOKEN) => ({ 'x-admin-token': token ?? '' });

/** A payment stand-in on the real platform scaffold: its own admin API and fault middleware. */
async function startPaymentStandIn(): Promise<RunningServer & { faults: FaultInjector }> {
  const logger = createLogger('payment', 'silent');
  const faults = new FaultInjector('payment', logger);
  const app = createBaseApp({ logger, readiness: { ready: true, checks: {} }, admin: faultAdminRouter({ injector: faults, adminToken: ADMIN_TOKEN }), faults });
  app.get('/payments/health', (_req, res) => {
    res.json({ processor: 'closed' });
  });
  finishApp(app, logger);
  const server = await listen(app, 0, '127.0.0.1');
  stops.push(async () => {
    faults.dispose();
    await server.close();
  });
  return { ...server, faults };
}

async function gatewayWith(env: Record<string, string> = {}, urls: Record<string, string> = {}) {
  const catalog = await startStub();
  stops.push(catalog.close);
  const gw = await startGateway({ CATALOG_URL: catalog.url, ...urls }, env);
  stops.push(gw.stop);
  return { gw, catalog };
}

describe('fault admin API', () => {
  it('when the token is missing or wrong, then it refuses; when no ADMIN_TOKEN is configured, then everything is 403', async () => {
    const { gw } = await gatewayWith();
    expect((await call(`${gw.url}/admin/faults`)).status).toBe(401);
    expect((await call(`${gw.url}/admin/faults`, { headers: admin('wrong-token-123') })).status).toBe(403);
    const inject = await call(`${gw.url}/admin/faults`, { method: 'POST', body: JSON.stringify({ kind: 'outage', durationSeconds: 5 }), headers: admin('wrong-token-123') });
    expect(inject.status).toBe(403);
    expect((await call(`${gw.url}/api/products`)).status).toBe(200);

    const off = await startGateway({}, { ADMIN_TOKEN: '' });
    stops.push(off.stop);
    const disabled = await call(`${off.url}/admin/faults`, { headers: admin() });
    expect(disabled.status).toBe(403);
    expect(disabled.body).toMatchObject({ error: { code: 'ADMIN.DISABLED' } });
  });

  it('when a client keeps calling the admin API, then past its bucket it gets 429 with Retry-After, right token or not', async () => {
    const { gw } = await gatewayWith();
    const statuses: number[] = [];
    for (let i = 0; i < ADMIN_RATE.burst + 20; i++) statuses.push((await call(`${gw.url}/admin/faults`, { headers: admin(i % 2 === 0 ? 'wrong-token-123' : ADMIN_TOKEN) })).status);
    expect(statuses.slice(0, ADMIN_RATE.burst).every((status) => status === 200 || status === 403)).toBe(true);
    expect(statuses).toContain(429);
    const limited = await call(`${gw.url}/admin/faults`, { headers: admin() });
    expect(limited.status).toBe(429);
    expect(limited.body).toMatchObject({ error: { code: 'ADMIN.RATE_LIMITED' } });
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    // The public API is not held back by the admin bucket.
    expect((await call(`${gw.url}/api/products`)).status).toBe(200);
  });

  it('when the input is invalid, then 400 and nothing is injected', async () => {
    const { gw } = await gatewayWith();
    for (const bad of [
      { kind: 'meteor', durationSeconds: 5 },
      { kind: 'outage', durationSeconds: 0 },
      { kind: 'error', durationSeconds: 5, errorRate: 2 },
      { kind: 'latency', durationSeconds: 5 },
    ]) {
      const answer = await call(`${gw.url}/admin/faults`, { method: 'POST', body: JSON.stringify(bad), headers: admin() });
      expect(answer.status).toBe(400);
      expect(answer.body).toMatchObject({ error: { code: 'REQUEST.VALIDATION_FAILED' } });
    }
    expect((await call(`${gw.url}/admin/faults`, { headers: admin() })).body).toMatchObject({ items: [] });
  });

  it('when latency is injected on a route, then that route is slower and the fault lists until it expires on its own', async () => {
    const { gw } = await gatewayWith();
    const injected = await call(`${gw.url}/admin/faults`, {
      method: 'POST',
      body: JSON.stringify({ kind: 'latency', latencyMs: 500, durationSeconds: 2, route: '/api/products' }),
      headers: admin(),
    });
    expect(injected.status).toBe(201);
    expect(injected.body).toMatchObject({ id: expect.any(String), service: 'gateway', kind: 'latency', latencyMs: 500, route: '/api/products', expiresAt: expect.any(String) });
    const slow = await call(`${gw.url}/api/products`);
    expect(slow.status).toBe(200);
    expect(slow.elapsedMs).toBeGreaterThanOrEqual(490);
    expect((await call(`${gw.url}/readyz`)).elapsedMs).toBeLessThan(300);
    expect(((await call(`${gw.url}/admin/faults`, { headers: admin() })).body.items as unknown[]).length).toBe(1);

    await sleep(2_100);
    expect((await call(`${gw.url}/admin/faults`, { headers: admin() })).body.items).toEqual([]);
    expect((await call(`${gw.url}/api/products`)).elapsedMs).toBeLessThan(300);
  });

  it('when an error fault is injected, then requests fail with FAULT.INJECTED while probes stay healthy; deleting lifts it', async () => {
    const { gw } = await gatewayWith();
    const injected = await call(`${gw.url}/admin/faults`, { method: 'POST', body: JSON.stringify({ kind: 'error', errorRate: 1, durationSeconds: 60 }), headers: admin() });
    const failed = await call(`${gw.url}/api/products`);
    expect(failed.status).toBe(500);
    expect(failed.body).toMatchObject({ error: { code: 'FAULT.INJECTED' } });
    expect((await call(`${gw.url}/readyz`)).status).toBe(200);
    expect((await call(`${gw.url}/livez`)).status).toBe(200);
    expect((await call(`${gw.url}/admin/faults/${String(injected.body.id)}`, { method: 'DELETE', headers: admin() })).status).toBe(204);
    expect((await call(`${gw.url}/api/products`)).status).toBe(200);
    expect((await call(`${gw.url}/admin/faults/${String(injected.body.id)}`, { method: 'DELETE', headers: admin() })).status).toBe(404);
  });

  it('when an outage is injected, then everything but probes and admin answers 503, until it expires', async () => {
    const { gw } = await gatewayWith();
    await call(`${gw.url}/admin/faults`, { method: 'POST', body: JSON.stringify({ kind: 'outage', durationSeconds: 1 }), headers: admin() });
    const down = await call(`${gw.url}/api/products`);
    expect(down.status).toBe(503);
    expect(down.headers.get('retry-after')).toBe('1');
    expect((await call(`${gw.url}/api/does-not-exist`)).status).toBe(503);
    expect((await call(`${gw.metricsUrl}/metrics`)).status).toBe(200);
    await sleep(1_100);
    expect((await call(`${gw.url}/api/products`)).status).toBe(200);
  });

  it('when a fault names payment, then the gateway forwards it, lists it with the rest, checkout is refused, and clearing it through the gateway restores checkout', async () => {
    const payment = await startPaymentStandIn();
    const order = await startStub();
    stops.push(order.close);
    const { gw } = await gatewayWith({ PAYMENT_PROBE_INTERVAL_MS: '50' }, { PAYMENT_URL: payment.url, ORDER_URL: order.url });
    const token = await tokenFor('u1');
    const checkout = () => call(`${gw.url}/api/orders`, { method: 'POST', token, body: JSON.stringify({ items: [{ productId: 'p1', quantity: 1 }], paymentToken: 'tok_visa' }) });
    expect((await checkout()).status).toBe(200);

    const injected = await call(`${gw.url}/admin/faults`, { method: 'POST', body: JSON.stringify({ service: 'payment', kind: 'outage', durationSeconds: 60 }), headers: admin() });
    expect(injected.status).toBe(201);
    expect(injected.body).toMatchObject({ service: 'payment', kind: 'outage' });
    expect(payment.faults.list()).toHaveLength(1);
    const local = await call(`${gw.url}/admin/faults`, {
      method: 'POST',
      body: JSON.stringify({ kind: 'latency', latencyMs: 1, durationSeconds: 60, route: '/nowhere' }),
      headers: admin(),
    });

    const listed = await call(`${gw.url}/admin/faults`, { headers: admin() });
    expect(listed.status).toBe(200);
    expect((listed.body.items as { service: string }[]).map((f) => f.service).sort()).toEqual(['gateway', 'payment']);

    await until(async () => (await checkout()).status === 503);
    const refused = await checkout();
    expect(refused.body).toMatchObject({ error: { code: 'DEPENDENCY.UNAVAILABLE', details: { dependency: 'payment' } } });
    expect(refused.elapsedMs).toBeLessThan(250);

    expect((await call(`${gw.url}/admin/faults/${String(injected.body.id)}`, { method: 'DELETE', headers: admin() })).status).toBe(204);
    expect(payment.faults.list()).toHaveLength(0);
    await until(async () => (await checkout()).status === 200);
    expect((await call(`${gw.url}/admin/faults/${String(local.body.id)}?service=gateway`, { method: 'DELETE', headers: admin() })).status).toBe(204);
  });
});

describe('CPU profile admin endpoint', () => {
  it('when asked with the admin token, then it answers a V8 CPU profile that saw the traffic served meanwhile; a second one at once is 409', async () => {
    const { gw } = await gatewayWith();
    expect((await call(`${gw.url}/admin/profile/cpu?seconds=1`)).status).toBe(401);
    expect((await call(`${gw.url}/admin/profile/cpu?seconds=0`, { headers: admin() })).status).toBe(400);
    expect((await call(`${gw.url}/admin/profile/cpu?seconds=1&extra=1`, { headers: admin() })).status).toBe(400);

    const profiling = call(`${gw.url}/admin/profile/cpu?seconds=3&intervalUs=500`, { headers: admin() });
    await sleep(500); // let the first request reach the gateway before the second
    const second = await call(`${gw.url}/admin/profile/cpu?seconds=1`, { headers: admin() });
    expect(second.status).toBe(409);
    expect(second.body).toMatchObject({ error: { code: 'PROFILE.BUSY' } });
    for (let i = 0; i < 20; i++) expect((await call(`${gw.url}/api/products`)).status).toBe(200);

    const answer = await profiling;
    expect(answer.status).toBe(200);
    const profile = answer.body as { nodes: { callFrame: { url: string } }[]; samples: number[]; timeDeltas: number[]; startTime: number; endTime: number };
    expect(profile.samples.length).toBeGreaterThan(100);
    expect(profile.timeDeltas.length).toBe(profile.samples.length);
    expect((profile.endTime - profile.startTime) / 1e6).toBeGreaterThanOrEqual(2.9);
    // The gateway's own route code ran while it was recording.
    expect(profile.nodes.some((n) => n.callFrame.url.includes('/gateway/src/'))).toBe(true);
  });
});
