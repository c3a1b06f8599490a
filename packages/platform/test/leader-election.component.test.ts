import { Kvm, type KV } from '@nats-io/kv';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { connectTestBus, ManualClock, startTestInfra, type TestInfra } from '@tracemart/testing';
import { connectMongo, createLogger, Fence, LeaderElection, type Clock, type EventBus, type MongoHandle } from '../src';

/**
 * Leader election on a NATS KV lease, and the fence that keeps a deposed leader out. The lease outlives the test
 * (the server expires nothing here): whether a lease found held is stale is the candidate's clock's call, and the
 * tests move that clock instead of waiting a TTL.
 */
const TTL_MS = 60_000;
const BUCKET = 'test-leases';
let infra: TestInfra;
let bus: EventBus;
let mongo: MongoHandle;
let leases: KV;
const running: LeaderElection[] = [];
let roles = 0;

beforeAll(async () => {
  infra = await startTestInfra();
  bus = await connectTestBus(infra.natsUrl);
  mongo = await connectMongo(infra.mongoUrl, 'tracemart_platform_test', 'test');
  leases = await new Kvm(bus.js).create(BUCKET, { ttl: TTL_MS, history: 1 });
});

afterEach(async () => {
  for (const election of running.splice(0)) await election.stop();
});

afterAll(async () => {
  await bus?.drain();
  await mongo?.close();
  await infra?.stop();
});

/** A candidate for `role`; it renews every TTL/3 (20 s), so within a test a leader never renews: it has stalled. */
async function candidate(role: string, instanceId: string, clock?: Clock): Promise<LeaderElection> {
  const election = new LeaderElection(bus, { role, instanceId, ttlMs: TTL_MS, bucket: BUCKET, logger: createLogger('test', 'silent'), ...(clock ? { clock } : {}) });
  running.push(election);
  await election.start();
  return election;
}

/** A clock standing at the moment the role's lease was last written. */
async function clockAtLastWrite(role: string): Promise<ManualClock> {
  const entry = await leases.get(role);
  if (!entry) throw new Error(`no lease for ${role}`);
  return new ManualClock(entry.created.getTime());
}

describe('leader election', () => {
  it('when the lease is free, then the first candidate leads with a fencing token and the next one follows', async () => {
    const role = `role-${++roles}`;
    const first = await candidate(role, 'a');
    const second = await candidate(role, 'b');
    expect(first.current).toEqual({ leader: true, token: expect.any(Number) });
    expect(second.current).toEqual({ leader: false });
  });

  it('when the leader stalls, then a candidate takes over only once its clock is past the TTL since the last renewal', async () => {
    const role = `role-${++roles}`;
    const stalled = await candidate(role, 'stalled');
    const clock = await clockAtLastWrite(role);

    clock.advance(TTL_MS);
    expect((await candidate(role, 'early', clock)).current).toEqual({ leader: false });

    clock.advance(1);
    const successor = await candidate(role, 'successor', clock);
    expect(successor.current).toEqual({ leader: true, token: expect.any(Number) });
    expect(successor.current.token).toBeGreaterThan(stalled.current.token ?? Infinity);
    expect((await leases.get(role))?.string()).toBe('successor');
  });

  it('when a stalled leader was replaced, then the fence refuses its token and its stepping down leaves the new lease alone', async () => {
    const role = `role-${++roles}`;
    const fence = Fence.for(mongo.db, role);
    const stalled = await candidate(role, 'stalled');
    const deposedToken = stalled.current.token ?? -1;
    await fence.check(deposedToken);

    const clock = await clockAtLastWrite(role);
    clock.advance(TTL_MS + 1);
    const successor = await candidate(role, 'successor', clock);
    const token = successor.current.token ?? -1;
    await fence.check(token);

    await expect(fence.check(deposedToken)).rejects.toMatchObject({ code: 'FENCE.STALE_TOKEN' });
    expect(await fence.current()).toBe(token);
    await stalled.stop();
    expect((await leases.get(role))?.string()).toBe('successor');
    expect(successor.current.leader).toBe(true);
  });
});
