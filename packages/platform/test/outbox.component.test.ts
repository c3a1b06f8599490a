import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectMongo, createLogger, embeddedOutbox, EventBus, newEnvelope, OutboxRelay, type EventEnvelope, type MongoHandle, type OutboxDocument } from '../src';
import { consumerSettled, recordEvents, startTestInfra, type TestInfra } from '@tracemart/testing';

/** The embedded outbox against real FerretDB and NATS: published events leave the document; what a failed publish left behind is swept. */
let infra: TestInfra;
let mongo: MongoHandle;
let bus: EventBus;
let observed: EventEnvelope[];
let observer: string;

/** The ids of the events the observer has received, once it has received everything published so far. */
async function received(): Promise<string[]> {
  await consumerSettled(bus, 'OUTBOXTEST', observer);
  return observed.map((event) => event.id);
}

beforeAll(async () => {
  infra = await startTestInfra();
  mongo = await connectMongo(infra.mongoUrl, 'tracemart_outbox_test', 'test');
  bus = await EventBus.connect({ url: infra.natsUrl, name: 'test', logger: createLogger('test', 'silent') });
  await bus.ensureStreams([{ name: 'OUTBOXTEST', subjects: ['outboxtest.>'] }]);
  ({ events: observed, durable: observer } = await recordEvents(bus, 'OUTBOXTEST', 'outboxtest.>'));
});

afterAll(async () => {
  await bus?.drain();
  await mongo?.close();
  await infra?.stop();
});

describe('embedded outbox', () => {
  it('when a write carries events, then they are published once and removed from the document, and a sweep finds nothing more', async () => {
    const things = mongo.db.collection<OutboxDocument & { _id: string; state?: string }>('things');
    const relay = new OutboxRelay(bus, [embeddedOutbox(things)], createLogger('test', 'silent'));
    const id = randomUUID();
    await things.insertOne({ _id: id, state: 'new' });
    const events = [
      newEnvelope('outboxtest.changed', { id }, { source: 'test', correlationId: id }),
      newEnvelope('outboxtest.noted', { id }, { source: 'test', correlationId: id }),
    ];
    expect(await relay.write(things, { _id: id }, { $set: { state: 'changed' } }, events)).toBe(true);
    expect((await received()).filter((r) => events.some((e) => e.id === r))).toEqual(events.map((e) => e.id));
    const after = await things.findOne({ _id: id });
    expect(after?.outbox ?? []).toEqual([]);
    expect(after?.outboxPending).toBeUndefined(); // emptied in one update: the sweep no longer looks at it
    expect(await relay.sweep()).toBe(0);
  });

  it('when an event was stored but never published (a crash), then the sweep publishes it and empties the outbox', async () => {
    const things = mongo.db.collection<OutboxDocument & { _id: string }>('things');
    const relay = new OutboxRelay(bus, [embeddedOutbox(things)], createLogger('test', 'silent'));
    const id = randomUUID();
    const fresh = newEnvelope('outboxtest.fresh', { id }, { source: 'test', correlationId: id });
    const stranded = newEnvelope('outboxtest.stranded', { id }, { source: 'test', correlationId: id, now: new Date(Date.now() - 5_000) });
    await things.insertOne({ _id: id, outbox: [stranded, fresh], outboxPending: true });
    // The fresh one is left to the immediate path (within the grace period); the stranded one is swept.
    expect(await relay.sweep()).toBe(1);
    expect((await things.findOne({ _id: id }))?.outbox?.map((e) => e.id)).toEqual([fresh.id]);
    await things.updateOne({ _id: id }, { $set: { outbox: [] } });
    const ids = await received();
    expect(ids).toContain(stranded.id);
    expect(ids).not.toContain(fresh.id);
    expect((await things.findOne({ _id: id }))?.outbox ?? []).toEqual([]);
    expect(await relay.sweep()).toBe(0);
  });
});
