import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { eventually, useComponent } from '@tracemart/testing';
import { notificationModule } from '../src/module';

const notification = useComponent(notificationModule, { RETENTION_SWEEP_INTERVAL_MS: '200', NOTIFICATION_RETENTION_DAYS: '1', LEADER_LEASE_TTL_MS: '1000' });

describe('notification retention, swept by the elected leader', () => {
  it('when this instance holds the lease, then its sweep removes expired notifications and its token has raised the fence', async () => {
    const { leadership, notifications } = notification.deps;
    await eventually(async () => leadership.election.current.leader, Boolean, 10_000);
    const token = leadership.election.current.token;
    const id = `${randomUUID()}:expired`;
    await notifications.queue({ id, userId: 'u', orderId: id, kind: 'order-confirmed', subject: 's', body: 'b' });
    const stored = notification.db.collection<{ _id: string }>('notifications');
    await stored.updateOne({ _id: id }, { $set: { status: 'SENT', sentAt: new Date(Date.now() - 2 * 24 * 3600_000) } });
    await eventually(
      async () => stored.countDocuments({ _id: id }),
      (n) => n === 0,
      10_000,
    );
    expect(await leadership.fence.current()).toBe(token);
  });
});
