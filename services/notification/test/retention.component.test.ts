import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectMongo, type MongoHandle } from '@tracemart/platform';
import { startTestInfra } from '../../../tests/support/infra';
import { createNotificationStore } from '../src/data/notifications';

let infra: Awaited<ReturnType<typeof startTestInfra>>;
let mongo: MongoHandle;

beforeAll(async () => {
  infra = await startTestInfra();
  mongo = await connectMongo(infra.mongoUrl, 'tracemart_notification', 'test');
});
afterAll(async () => {
  await mongo?.close();
  await infra?.stop();
});

describe('notification retention', () => {
  it('when the sweep runs, then only sent notifications older than the cutoff go; queued and recent ones stay', async () => {
    const store = await createNotificationStore(mongo.db);
    const userId = randomUUID();
    const message = { kind: 'confirmation' as const, subject: 's', body: 'b' };
    const ids = ['old-sent', 'new-sent', 'old-queued'].map((name) => `${randomUUID()}:${name}`);
    for (const id of ids) await store.queue({ _id: id, userId, orderId: id, ...message });
    const cutoff = new Date('2026-06-01T00:00:00Z');
    await store.notifications.updateOne({ _id: ids[0] }, { $set: { status: 'SENT', sentAt: new Date(cutoff.getTime() - 1) } });
    await store.notifications.updateOne({ _id: ids[1] }, { $set: { status: 'SENT', sentAt: new Date(cutoff.getTime() + 1) } });
    expect(await store.expire(cutoff)).toBe(1);
    expect((await store.listFor(userId)).map((n) => n._id).sort()).toEqual([ids[1], ids[2]].sort());
  });
});
