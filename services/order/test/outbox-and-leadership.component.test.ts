import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Fence, connectMongo, type EventBus, type EventEnvelope } from '@tracemart/platform';
import { USER_ID_HEADER } from '@tracemart/contracts';
import { connectTestBus, consumerSettled, eventually, startTestInfra, spawnService, startCatalogStub } from '@tracemart/testing';

/**
 * These run the order service as real OS processes, because what they prove is about processes dying:
 * the outbox survives a crash between write and publish, and the saga sweeper's leadership moves to
 * the survivor when the leader is SIGKILLed. So no in-process service (useComponent) runs here: it would take part
 * in the election and relay the outbox itself.
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
  ...extra,
});

describe('transactional outbox', () => {
  it('when the service crashes after storing an order and before publishing it, then after restart the event is delivered exactly once', async () => {
    const crashing = await spawnService('order', env({ TEST_CRASH_BEFORE_PUBLISH: 'orders.placed', SAGA_TIMEOUT_MS: '600000' }));
    const answer = await fetch(`${crashing.url}/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', [USER_ID_HEADER]: 'crash-user' },
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

describe('saga timeout with leader election and fencing', () => {
  it('when two instances run, then exactly one sweeps; when the leader is killed, then the other takes over within the lease', async () => {
    const sagaEnv = env({ SAGA_TIMEOUT_MS: '1500', SAGA_SWEEP_INTERVAL_MS: '200', LEADER_LEASE_TTL_MS: '2000' });
    const a = await spawnService('order', { ...sagaEnv, INSTANCE_ID: 'order-a' });
    const b = await spawnService('order', { ...sagaEnv, INSTANCE_ID: 'order-b' });
    const instances = [a, b];
    try {
      const leaderOf = () => instances.filter((p) => p.lines.some((line) => line.includes('"msg":"became leader"')));
      await eventually(
        async () => leaderOf().length,
        (n) => n >= 1,
      );
      expect(leaderOf()).toHaveLength(1);
      const leader = leaderOf()[0];
      const follower = instances.find((p) => p !== leader);
      if (!leader || !follower) throw new Error('no leader');

      // No inventory or payment service runs here, so orders stay PENDING until the sweeper cancels them.
      for (const user of ['stuck-1', 'stuck-2']) {
        const res = await fetch(`${follower.url}/orders`, { method: 'POST', headers: { 'content-type': 'application/json', [USER_ID_HEADER]: user }, body: orderBody });
        expect(res.status).toBe(202);
      }
      await eventually(
        async () => cancelled.filter((e) => (e.data as { userId: string }).userId.startsWith('stuck-')).length,
        (n) => n === 2,
        20_000,
      );
      expect(cancelled.filter((e) => (e.data as { userId: string }).userId.startsWith('stuck-')).map((e) => (e.data as { reason: string }).reason)).toEqual([
        'SAGA_TIMEOUT',
        'SAGA_TIMEOUT',
      ]);
      const sweptBy = (p: typeof a) => p.lines.filter((line) => line.includes('saga timed out')).length;
      // The two above, plus the order left PENDING by the outbox test; the log line may trail the published event.
      expect(
        await eventually(
          async () => sweptBy(leader),
          (n) => n >= 2,
          5_000,
        ),
      ).toBeGreaterThanOrEqual(2);
      expect(sweptBy(follower)).toBe(0);

      const killedAt = Date.now();
      leader.child.kill('SIGKILL');
      await leader.exited;
      await eventually(async () => follower.lines.some((line) => line.includes('"msg":"became leader"')), Boolean, 15_000);
      const takeoverMs = Date.now() - killedAt;
      // The lease may have been renewed just before the kill, so takeover takes up to one TTL (2 s),
      // plus the server noticing the expiry and the candidate's next poll (each up to TTL/3), plus
      // log-polling slack on a busy 2-core CI machine.
      expect(takeoverMs).toBeLessThan(2_000 + 2 * 667 + 1_500);
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
