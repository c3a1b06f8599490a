import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Fence, connectMongo, type EventBus, type EventEnvelope } from '@tracemart/platform';
import { partitionOf } from '@tracemart/contracts';
import { connectTestBus, consumerSettled, eventually, identityHeaders, startTestInfra, spawnService, startCatalogStub, testInternalAuthSecret } from '@tracemart/testing';

/**
 * These run the order service as real OS processes, because what they prove is about processes dying:
 * the outbox survives a crash between write and publish, and the saga's partitions (its consumers and its sweeper)
 * move to the survivor when an instance is SIGKILLed. So no in-process service (useComponent) runs here: it would take
 * part in the partition ownership and relay the outbox itself.
 */
type Infra = Awaited<ReturnType<typeof startTestInfra>>;
let infra: Infra;
let catalog: Awaited<ReturnType<typeof startCatalogStub>>;
let bus: EventBus;
const placed: EventEnvelope[] = [];
const cancelled: EventEnvelope[] = [];

const orderBody = JSON.stringify({ items: [{ productId: 'burr-grinder', quantity: 1 }], paymentToken: 'tok_visa' });

beforeAll(async () => {
  infra = await startTestInfra();
  catalog = await startCatalogStub();
  bus = await connectTestBus(infra.natsUrl);
  await bus.consume({
    stream: 'ORDERS',
    durable: 'test-orders-observer',
    subject: 'orders.>',
    handler: async (event) => {
      (event.type === 'orders.placed' ? placed : cancelled).push(event);
      return 'ack';
    },
  });
});

afterAll(async () => {
  await bus?.drain();
  await catalog?.close();
  await infra?.stop();
});

const env = (extra: Record<string, string> = {}) => ({
  NATS_URL: infra.natsUrl,
  MONGODB_URL: infra.mongoUrl,
  GATEWAY_URL: catalog.url,
  PAYMENT_TOKEN_KEY: 'p'.repeat(32),
  ...extra,
});

describe('transactional outbox', () => {
  it('when the service crashes after storing an order and before publishing it, then after restart the event is delivered exactly once', async () => {
    const crashing = await spawnService('order', env({ TEST_CRASH_BEFORE_PUBLISH: 'orders.placed', SAGA_TIMEOUT_MS: '600000' }));
    const answer = await fetch(`${crashing.url}/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...identityHeaders({ userId: 'crash-user', secret: testInternalAuthSecret }) },
      body: orderBody,
    }).catch((err: unknown) => err);
    expect(answer).toBeInstanceOf(Error); // the process died mid-request
    expect(await crashing.exited).toBe(137);
    const mongo = await connectMongo(infra.mongoUrl, 'tracemart_order', 'test');
    try {
      const storedOrder = () => mongo.db.collection('order_events').find({ type: 'orders.placed', 'data.userId': 'crash-user' }).toArray();
      const stored = await storedOrder();
      expect(stored).toHaveLength(1);
      expect(stored[0]?.published).toBe(false);
      expect(placed.filter((e) => (e.data as { userId: string }).userId === 'crash-user')).toHaveLength(0);

      const restarted = await spawnService('order', env({ SAGA_TIMEOUT_MS: '600000' }));
      try {
        await eventually(
          async () => placed.filter((e) => (e.data as { userId: string }).userId === 'crash-user').length,
          (n) => n >= 1,
        );
        // Once marked published no sweep publishes it again (before that, JetStream's duplicate window drops a
        // republish): when the mark is stored and the observer has taken everything, the count is final.
        await eventually(storedOrder, (docs) => docs[0]?.published === true);
        await consumerSettled(bus, 'ORDERS', 'test-orders-observer');
        expect(placed.filter((e) => (e.data as { userId: string }).userId === 'crash-user')).toHaveLength(1);
      } finally {
        await restarted.stop();
      }
    } finally {
      await mongo.close();
    }
  });
});

describe('saga partitions across instances, with leases and fencing', () => {
  const ADMIN = 'partition-test-admin-token';
  const partitionsOf = async (instance: { url: string }): Promise<number[]> => {
    const res = await fetch(`${instance.url}/admin/partitions`, { headers: { 'x-admin-token': ADMIN } });
    const body = (await res.json()) as { owned: { partition: number }[] };
    return body.owned.map((o) => o.partition);
  };
  const sweptOrders = (p: { lines: string[] }) =>
    p.lines.filter((line) => line.includes('saga timed out')).map((line) => JSON.parse(line) as { orderId: string; partition: number });

  it('when two instances run, then they split the partitions and each sweeps only its own; when one is killed, then the survivor owns all within the lease', async () => {
    const sagaEnv = env({ SAGA_TIMEOUT_MS: '1500', SAGA_SWEEP_INTERVAL_MS: '200', PARTITION_LEASE_TTL_MS: '2000', ADMIN_TOKEN: ADMIN });
    const a = await spawnService('order', { ...sagaEnv, INSTANCE_ID: 'order-a' });
    const b = await spawnService('order', { ...sagaEnv, INSTANCE_ID: 'order-b' });
    const instances = [a, b];
    try {
      // The first to start takes all eight; once the second is seen as a member, the first gives up its share.
      const split = await eventually(
        async () => Promise.all(instances.map(partitionsOf)),
        ([ofA = [], ofB = []]) => ofA.length === 4 && ofB.length === 4,
        15_000,
      );
      expect([...(split[0] ?? []), ...(split[1] ?? [])].sort()).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
      await eventually(
        async () => a.lines.some((line) => line.includes('"msg":"partitions rebalanced"')),
        (logged) => logged,
        10_000,
      );

      // No inventory or payment service runs here, so orders stay PENDING until a sweeper cancels them.
      const users = Array.from({ length: 8 }, (_, i) => `stuck-${i}`);
      for (const user of users) {
        const headers = { 'content-type': 'application/json', ...identityHeaders({ userId: user, secret: testInternalAuthSecret }) };
        const res = await fetch(`${a.url}/orders`, { method: 'POST', headers, body: orderBody });
        expect(res.status).toBe(202);
      }
      const stuckCancelled = () => cancelled.filter((e) => (e.data as { userId: string }).userId.startsWith('stuck-'));
      await eventually(
        async () => stuckCancelled().length,
        (n) => n === users.length,
        20_000,
      );
      expect(stuckCancelled().map((e) => (e.data as { reason: string }).reason)).toEqual(users.map(() => 'SAGA_TIMEOUT'));
      const stuckIds = new Set(stuckCancelled().map((e) => (e.data as { orderId: string }).orderId));
      // Each order swept once, by the owner of its partition (the partition is computed as the server's transform does).
      await eventually(
        async () => [...sweptOrders(a), ...sweptOrders(b)].filter((s) => stuckIds.has(s.orderId)).length,
        (n) => n >= users.length,
        5_000,
      );
      for (const [instance, owned] of [
        [a, split[0] ?? []],
        [b, split[1] ?? []],
      ] as const) {
        for (const swept of sweptOrders(instance).filter((s) => stuckIds.has(s.orderId))) {
          expect(owned).toContain(swept.partition);
          expect(swept.partition).toBe(partitionOf(swept.orderId));
        }
      }
      const sweeps = [...sweptOrders(a), ...sweptOrders(b)].filter((s) => stuckIds.has(s.orderId)).map((s) => s.orderId);
      expect(new Set(sweeps).size).toBe(sweeps.length);

      const killedAt = Date.now();
      a.child.kill('SIGKILL');
      await a.exited;
      await eventually(
        async () => (await partitionsOf(b)).length,
        (n) => n === 8,
        15_000,
      );
      const takeoverMs = Date.now() - killedAt;
      // A lease renewed just before the kill lives one TTL (2 s); the survivor sees that at its next tick (TTL/3), and
      // polling the admin API adds up to 100 ms; slack for a busy 2-core CI machine.
      expect(takeoverMs).toBeLessThan(2_000 + 667 + 1_500);
      // The admin API lists a lease as soon as it is taken; the log line follows once every gained partition's work
      // has started (its consumers created), so it may come a moment later.
      await eventually(
        async () => b.lines.some((line) => line.includes('"msg":"partitions rebalanced"') && line.includes('"owned":[0,1,2,3,4,5,6,7]')),
        (logged) => logged,
        10_000,
      );
    } finally {
      await Promise.all(instances.map((p) => p.stop()));
    }
  });

  it('when a deposed leader writes with its old fencing token, then the write is refused', async () => {
    const mongo = await connectMongo(infra.mongoUrl, 'tracemart_fence_test', 'test');
    try {
      const fence = Fence.for(mongo.db, 'saga-sweeper');
      await fence.check(10); // the old leader
      await fence.check(25); // a new leader was elected (KV revisions only grow)
      await expect(fence.check(10)).rejects.toMatchObject({ code: 'FENCE.STALE_TOKEN' });
      await expect(fence.check(25)).resolves.toBeUndefined();
      expect(await fence.current()).toBe(25);
    } finally {
      await mongo.close();
    }
  });
});
