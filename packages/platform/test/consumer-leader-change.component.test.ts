import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectMongo, createLogger, EventBus, newEnvelope, ProcessedEvents, type MongoHandle } from '../src';
import { eventually, startTestInfra, type TestInfra } from '@tracemart/testing';

/**
 * A replicated consumer whose Raft leader moves (as on a busy first start of the 3-node cluster, or a node restart):
 * the pull request waiting at the old leader is gone, and the client learns it only from missed idle heartbeats. The
 * consumer must be pulling again within a few seconds, not after the pull's expiry (a saga stalled ~15 s on a fresh
 * stack when `payment-inventory-p6` changed leader right after it started).
 */
const STREAM = 'LEADERS';
let infra: TestInfra;
let mongo: MongoHandle;
let bus: EventBus;

beforeAll(async () => {
  infra = await startTestInfra({ natsNodes: 3 });
  mongo = await connectMongo(infra.mongoUrl, 'tracemart_platform_test', 'test');
  bus = await EventBus.connect({ url: infra.natsUrl, name: 'test', replicas: 3, logger: createLogger('test', 'silent') });
  await bus.ensureStreams([{ name: STREAM, subjects: ['leaders.>'] }]);
}, 180_000);

afterAll(async () => {
  await bus?.drain();
  await mongo?.close();
  await infra?.stop();
});

/** The consumer's Raft leader; undefined while there is none (an info request then goes unanswered). */
async function leaderOf(durable: string): Promise<string | undefined> {
  const info = await bus.jsm.consumers.info(STREAM, durable).catch(() => undefined);
  return info?.cluster?.leader;
}

describe('a consumer whose leader moves', () => {
  it('when the consumer leader steps down while the consumer is idle, then the next event is handled within a few seconds', async () => {
    const durable = 'steady';
    const handled = new Map<string, number>();
    await bus.consume({
      stream: STREAM,
      durable,
      subject: 'leaders.ping',
      processed: await ProcessedEvents.create(mongo.db),
      handler: async (event) => {
        handled.set(event.id, Date.now());
        return 'ack';
      },
    });
    const first = newEnvelope('leaders.ping', {}, { source: 'test', correlationId: randomUUID() });
    await bus.publish(first);
    await eventually(async () => handled.has(first.id), Boolean);

    // Idle, with a pull request waiting at the leader; then the leader steps down, and an event arrives at once.
    await sleep(1_000);
    const before = await leaderOf(durable);
    const reply = await bus.nc.request(`$JS.API.CONSUMER.LEADER.STEPDOWN.${STREAM}.${durable}`, '{}', { timeout: 5_000 });
    expect(reply.json<{ success?: boolean }>().success).toBe(true);
    const second = newEnvelope('leaders.ping', {}, { source: 'test', correlationId: randomUUID() });
    const published = Date.now();
    await bus.publish(second);
    await eventually(async () => handled.has(second.id), Boolean, 30_000);
    expect(await leaderOf(durable)).not.toBe(before);
    const waitedMs = (handled.get(second.id) ?? 0) - published;
    // The election, two missed heartbeats (1 s each) and a pull: about 2-3 s. With heartbeats at half the pull expiry
    // (5 s), about 10 s.
    expect(waitedMs).toBeLessThan(6_000);
  }, 90_000);
});
