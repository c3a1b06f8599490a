import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '@tracemart/stack';
import { apiClient, eventually, identityHeaders, repoRoot, signUp, type ApiClient } from '@tracemart/testing';

/**
 * Issue 12, service-to-service trust, through the whole stack: a service believes who the caller is only from the
 * gateway's identity assertion. Anyone who reaches a service's port and names a user in `x-user-id` reads nothing of
 * theirs and places nothing for them; the same requests through the gateway with the user's token work. And the
 * gateway's public port serves no /metrics: its metrics listener (METRICS_PORT) does.
 */
interface Order {
  id: string;
  status: string;
}

let stack: Stack;
let dataDir: string;
let api: ApiClient;
let alice: Awaited<ReturnType<typeof signUp>>;
let order: Order;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'tracemart-identity-'));
  stack = await startStack({ root: repoRoot, dataDir, freePorts: true, ephemeral: true, natsNodes: 1, instances: 1, readyTimeoutMs: 120_000, env: { LOG_LEVEL: 'warn' } });
  api = apiClient(stack.gatewayUrl);
  alice = await signUp(api, 'Alice');
  const [product] = (await api.get<{ items: { id: string }[] }>('/api/products?limit=1')).body.items;
  const placed = await alice.client.post<Order>('/api/orders', { items: [{ productId: product?.id, quantity: 1 }], paymentToken: 'tok_visa' });
  expect(placed.status, JSON.stringify(placed.body)).toBe(202);
  order = await eventually(
    async () => (await alice.client.get<Order>(`/api/orders/${placed.body.id}`)).body,
    (current) => current.status !== 'PENDING',
    30_000,
  );
}, 240_000);

afterAll(async () => {
  await stack?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

/** Alice's data, as the path on the owning service's port and through the gateway. */
const reads = () =>
  [
    ['order', `/orders/${order.id}`],
    ['order', '/orders'],
    ['order', `/orders/${order.id}/history`],
    ['payment', `/payments/${order.id}/ledger`],
    ['notification', '/notifications'],
    ['user', '/users/me'],
  ] as const;

describe('who a service believes the caller is', () => {
  it("when a caller on a service's own port names Alice in x-user-id, then every read of hers is a 401 with WWW-Authenticate, while through the gateway with her token each answers 200", async () => {
    for (const [service, path] of reads()) {
      const spoofed = await apiClient(stack.urls[service]).get(path, { 'x-user-id': alice.id });
      expect(spoofed.status, `${service} ${path}`).toBe(401);
      expect(spoofed.headers.get('www-authenticate'), `${service} ${path}`).toMatch(/^Bearer/);
      expect(JSON.stringify(spoofed.body), `${service} ${path}`).not.toContain(order.id);
      expect((await alice.client.get(`/api${path}`)).status, `gateway ${path}`).toBe(200);
    }
  });

  it("when a caller on the order service's port posts an order naming Alice in x-user-id with no token, then 401 and she has no new order", async () => {
    const before = (await alice.client.get<{ items: Order[] }>('/api/orders')).body.items.length;
    const spoofed = await apiClient(stack.urls.order).post('/orders', { items: [{ productId: 'burr-grinder', quantity: 1 }], paymentToken: 'tok_visa' }, { 'x-user-id': alice.id });
    expect(spoofed.status).toBe(401);
    expect((await alice.client.get<{ items: Order[] }>('/api/orders')).body.items).toHaveLength(before);
  });

  it("when an assertion is signed with another secret than the stack's, then 401; with the stack's own, the service answers as the gateway's caller", async () => {
    const forged = identityHeaders({ userId: alice.id, secret: 'not-the-stack-internal-secret-0123456789' });
    expect((await apiClient(stack.urls.order).get(`/orders/${order.id}`, forged)).status).toBe(401);
    const genuine = identityHeaders({ userId: alice.id, secret: stack.internalAuthSecret });
    expect((await apiClient(stack.urls.order).get<Order>(`/orders/${order.id}`, genuine)).body).toMatchObject({ id: order.id });
  });
});

describe('the gateway metrics', () => {
  it('when /metrics is asked of the public port, then 404; the METRICS_PORT listener serves the gateway metrics', async () => {
    expect((await fetch(`${stack.gatewayUrl}/metrics`, { signal: AbortSignal.timeout(5_000) })).status).toBe(404);
    const scrape = await fetch(`${stack.metricsUrls.gateway}/metrics`, { signal: AbortSignal.timeout(5_000) });
    expect(scrape.status).toBe(200);
    expect(await scrape.text()).toMatch(/^http_server_request_duration_count\{/m);
  });
});
