import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SERVICE_MODULES } from '@tracemart/docs';
import { startStack, type ProcessName, type Stack } from '@tracemart/stack';
import { apiClient, eventually, repoRoot, signUp } from '@tracemart/testing';
import { startAuthNats, type AuthNats } from './nats-auth-server';

// The whole system as separate processes, each service connected as its own NATS user with the cluster's permissions
// (deploy/k8s/base/data/nats-auth.conf): the saga's publishes, pulls, acks and leases all run under them.
interface Order {
  id: string;
  status: 'PENDING' | 'CONFIRMED' | 'CANCELLED';
  reason?: string;
}

let nats: AuthNats;
let stack: Stack;
let dataDir: string;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'tracemart-nats-users-'));
  nats = await startAuthNats();
  const envFor = Object.fromEntries(SERVICE_MODULES.map(({ name }) => [name, nats.envFor(name)])) as Partial<Record<ProcessName, Record<string, string>>>;
  stack = await startStack({ root: repoRoot, dataDir, freePorts: true, natsUrl: nats.url, envFor, env: { LOG_LEVEL: 'info' }, readyTimeoutMs: 150_000 });
}, 240_000);

afterAll(async () => {
  await stack?.stop();
  await nats?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

describe('the order saga with one NATS user per service', () => {
  it('when one order is paid and one card is declined, then they end CONFIRMED and CANCELLED, and the server refused nothing', async () => {
    const api = apiClient(stack.gatewayUrl);
    const alice = await signUp(api, 'Alice');
    const [product] = (await api.get<{ items: { id: string }[] }>('/api/products?limit=1')).body.items;
    const place = (paymentToken: string) => alice.client.post<Order>('/api/orders', { items: [{ productId: product!.id, quantity: 1 }], paymentToken });
    const paid = await place('tok_visa');
    const declined = await place('tok_chargeDeclined');
    expect([paid.status, declined.status]).toEqual([202, 202]);
    const final = (id: string) =>
      eventually(
        async () => (await alice.client.get<Order>(`/api/orders/${id}`)).body,
        (order) => order.status !== 'PENDING',
        30_000,
      );
    expect(await final(paid.body.id)).toMatchObject({ status: 'CONFIRMED' });
    expect(await final(declined.body.id)).toMatchObject({ status: 'CANCELLED', reason: 'PAYMENT_DECLINED' });
    expect(nats.violations()).toEqual([]);
  });
});
