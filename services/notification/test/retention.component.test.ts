import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { useComponent } from '@tracemart/testing';
import { notificationModule } from '../src/module';

const notification = useComponent(notificationModule);

describe('notification retention', () => {
  it('when the sweep runs, then only sent notifications older than the cutoff go; queued and recent ones stay', async () => {
    const store = notification.deps.notifications;
    const userId = randomUUID();
    const message = { kind: 'order-confirmed' as const, subject: 's', body: 'b' };
    const ids = ['old-sent', 'new-sent', 'old-queued'].map((name) => `${randomUUID()}:${name}`);
    for (const id of ids) await store.queue({ id, userId, orderId: id, ...message });
    const cutoff = new Date('2026-06-01T00:00:00Z');
    const stored = notification.db.collection<{ _id: string }>('notifications');
    await stored.updateOne({ _id: ids[0] }, { $set: { status: 'SENT', sentAt: new Date(cutoff.getTime() - 1) } });
    await stored.updateOne({ _id: ids[1] }, { $set: { status: 'SENT', sentAt: new Date(cutoff.getTime() + 1) } });
    expect(await store.expire(cutoff)).toBe(1);
    expect((await store.listFor(userId)).map((n) => n.id).sort()).toEqual([ids[1], ids[2]].sort());
  });
});
