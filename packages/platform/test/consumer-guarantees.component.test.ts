import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectMongo, createLogger, DeadLetters, EventBus, newEnvelope, ProcessedEvents, type EventEnvelope, type MongoHandle } from '../src';
import { consumerSettled, eventually, startTestInfra, type TestInfra } from '@tracemart/testing';

/**
 * The consumer guarantees every service relies on, against real NATS and FerretDB: duplicates and
 * redeliveries have one effect (idempotent consumer), poisoned messages go to the dead-letter stream
 * after N attempts and can be re-driven.
 */
let infra: TestInfra;
let mongo: MongoHandle;
let bus: EventBus;
let processed: ProcessedEvents;

const streams = [
  { name: 'GUARANTEES', subjects: ['guarantees.>'] },
  { name: 'DEADLETTER', subjects: ['deadletter.>'] },
];

beforeAll(async () => {
  infra = await startTestInfra();
  mongo = await connectMongo(infra.mongoUrl, 'tracemart_platform_test', 'test');
  bus = await EventBus.connect({ url: infra.natsUrl, name: 'test', logger: createLogger('test', 'silent') });
  await bus.ensureStreams(streams);
  processed = await ProcessedEvents.create(mongo.db);
});

afterAll(async () => {
  await bus?.drain();
  await mongo?.close();
  await infra?.stop();
});

const event = (type: string, data: Record<string, unknown> = {}): EventEnvelope => newEnvelope(type, data, { source: 'test', correlationId: randomUUID() });

describe('idempotent consumer', () => {
  it('when the same event arrives twice (past JetStream dedup) and once more after being applied, then its effect happens once', async () => {
    const effects = mongo.db.collection<{ _id: string; count: number }>('effects');
    await bus.consume({
      stream: 'GUARANTEES',
      durable: 'counter',
      subject: 'guarantees.count',
      processed,
      handler: async (e) => {
        // A deliberately non-idempotent effect: only the consumer guard can keep it to one.
        await effects.updateOne({ _id: e.id }, { $inc: { count: 1 } }, { upsert: true });
        return 'ack';
      },
    });
    const once = event('guarantees.count');
    await bus.publish(once);
    // A second copy with another msgID, as a producer retry after the duplicate window would send.
    await bus.js.publish('guarantees.count', JSON.stringify(once), { msgID: randomUUID() });
    // Both copies handled and acknowledged: whatever effect they have has happened.
    await consumerSettled(bus, 'GUARANTEES', 'counter');
    expect((await effects.findOne({ _id: once.id }))?.count).toBe(1);
    expect(await processed.has('counter', once.id)).toBe(true);
    await bus.js.publish('guarantees.count', JSON.stringify(once), { msgID: randomUUID() });
    await consumerSettled(bus, 'GUARANTEES', 'counter');
    expect((await effects.findOne({ _id: once.id }))?.count).toBe(1);
  });
});

describe('dead letters', () => {
  it('when a handler keeps failing, then after max deliveries the message lands in DEADLETTER and can be re-driven', async () => {
    let failing = true;
    const attempts = new Map<string, number>();
    const handled: string[] = [];
    await bus.consume({
      stream: 'GUARANTEES',
      durable: 'fragile',
      subject: 'guarantees.fragile',
      processed,
      maxDeliver: 3,
      backoffMs: [50, 100],
      handler: async (e) => {
        attempts.set(e.id, (attempts.get(e.id) ?? 0) + 1);
        if (failing) throw new Error('downstream unavailable');
        handled.push(e.id);
        return 'ack';
      },
    });
    const poisoned = event('guarantees.fragile', { n: 1 });
    await bus.publish(poisoned);
    const letters = new DeadLetters(bus, ['fragile']);
    const listed = await eventually(
      () => letters.list(),
      (items) => items.length === 1,
      20_000,
    );
    expect(attempts.get(poisoned.id)).toBe(3);
    expect(listed[0]).toMatchObject({ consumer: 'fragile', subject: 'guarantees.fragile', deliveryCount: 3, reason: 'downstream unavailable' });
    expect(JSON.parse(listed[0]?.payload ?? '{}')).toMatchObject({ id: poisoned.id });
    await expect(new DeadLetters(bus, ['someone-else']).list()).resolves.toEqual([]);

    failing = false;
    expect(await letters.redrive(listed[0]?.sequence ?? -1)).toBe(true);
    await eventually(
      async () => handled,
      (ids) => ids.includes(poisoned.id),
    );
    expect(await letters.list()).toEqual([]);
  });

  it('when a message breaks its contract, then it is dead-lettered at once and the consumer keeps going', async () => {
    const seen: string[] = [];
    await bus.consume({
      stream: 'GUARANTEES',
      durable: 'strict',
      subject: 'guarantees.strict',
      decode: (e) => {
        if (typeof (e.data as { ok?: unknown }).ok !== 'boolean') throw new Error('ok must be a boolean');
        return e;
      },
      handler: async (e) => {
        seen.push(e.id);
        return 'ack';
      },
    });
    await bus.js.publish('guarantees.strict', '{not json');
    const good = event('guarantees.strict', { ok: true });
    await bus.publish(good);
    await eventually(
      async () => seen,
      (ids) => ids.includes(good.id),
    );
    const letters = await eventually(
      () => new DeadLetters(bus, ['strict']).list(),
      (items) => items.length === 1,
    );
    expect(letters[0]?.reason).toMatch(/invalid message/);
  });
});
