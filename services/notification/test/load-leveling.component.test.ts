import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { DeadLetters } from '@tracemart/platform';
import { eventually, testEvent, useComponent } from '@tracemart/testing';
import { notificationModule } from '../src/module';

/**
 * Queue-based load leveling at the size the issue names: a burst of 500 notifications in front of a
 * provider that accepts 5 per second, behind a consumer with at most 16 in flight. The backlog waits in
 * JetStream (pending), the burst drains at the provider's rate (not faster, and not much slower: the
 * service alone handles about 10-12 notifications/s here), nothing is lost or sent twice; and a message
 * the provider keeps failing goes to the dead-letter stream after N attempts, from where it can be
 * re-driven through the admin API.
 */
const RATE = 5;
const BURST = 500;
const MAX_ACK_PENDING = 16;
const ADMIN_TOKEN = 'test-admin-token';

const notification = useComponent(notificationModule, { EMAIL_RATE_PER_SECOND: String(RATE), NOTIFICATION_MAX_ACK_PENDING: String(MAX_ACK_PENDING), ADMIN_TOKEN });
const sent = notification.observe('NOTIFICATIONS', 'notifications.>');

const sentFor = (orderId: string) => sent.filter((e) => (e.data as { orderId: string }).orderId === orderId);

describe('load leveling in front of the rate-limited email provider', () => {
  it(`when ${BURST} notifications arrive at once, then they drain at the provider's ${RATE}/s with at most ${MAX_ACK_PENDING} in flight and the backlog waiting in JetStream, none lost and none twice`, async () => {
    const { bus } = notification;
    const userId = `burst-${randomUUID()}`;
    const events = Array.from({ length: BURST }, () => testEvent('orders.confirmed', { orderId: randomUUID(), userId, totalCents: 100 }));
    const ids = new Set(events.map((e) => e.data.orderId));
    const mine = () => sent.filter((e) => ids.has((e.data as { orderId: string }).orderId));
    const startedAt = Date.now();
    await Promise.all(events.map((e) => bus.publish(e)));
    let maxAckPending = 0;
    let maxPending = 0;
    await eventually(
      async () => {
        const info = await notification.consumerInfo('notification-orders');
        maxAckPending = Math.max(maxAckPending, info.ackPending);
        maxPending = Math.max(maxPending, info.pending);
        return mine().length;
      },
      (count) => count >= BURST,
      (BURST / RATE) * 2 * 1000,
    );
    const elapsedSeconds = (Date.now() - startedAt) / 1000;
    await notification.settled('notification-orders');
    expect(mine()).toHaveLength(BURST);
    expect(new Set(mine().map((e) => (e.data as { orderId: string }).orderId))).toEqual(ids);
    expect(maxAckPending).toBeLessThanOrEqual(MAX_ACK_PENDING);
    expect(maxPending).toBeGreaterThan(BURST / 2); // the backlog waited in the stream, not in memory
    expect(elapsedSeconds).toBeGreaterThanOrEqual((BURST - Math.ceil(RATE / 10)) / RATE);
    expect(elapsedSeconds).toBeLessThanOrEqual((BURST / RATE) * 1.9); // paced, not stalled (slack for a busy CI machine)
  }, 260_000);

  it('when the provider keeps failing, then the notification is dead-lettered after the configured attempts and can be re-driven once it recovers', async () => {
    const admin = { 'x-admin-token': ADMIN_TOKEN };
    await notification.restart({ EMAIL_FAILURE_RATE: '1', NOTIFICATION_MAX_DELIVER: '3' });
    const event = testEvent('orders.cancelled', { orderId: randomUUID(), userId: `poison-${randomUUID()}`, reason: 'OUT_OF_STOCK' });
    const letters = new DeadLetters(notification.bus, ['notification-orders']);
    await notification.bus.publish(event);
    const listed = await eventually(
      async () => (await letters.list()).filter((l) => l.payload.includes(event.id)),
      (items) => items.length === 1,
      30_000,
    );
    expect(listed[0]).toMatchObject({ consumer: 'notification-orders', deliveryCount: 3 });
    // The same list through the service's admin API, which refuses callers without the credential.
    expect((await notification.api.get('/admin/deadletters')).status).toBe(401);
    const viaApi = await notification.api.get<{ items: { sequence: number }[] }>('/admin/deadletters', admin);
    expect(viaApi.body.items.map((l) => l.sequence)).toContain(listed[0]?.sequence);
    expect(sentFor(event.data.orderId)).toEqual([]); // every attempt failed: nothing could have been sent

    await notification.restart(); // the provider recovered
    const redrive = await notification.api.post(`/admin/deadletters/${listed[0]?.sequence ?? -1}/redrive`, undefined, admin);
    expect(redrive.status).toBe(202);
    await eventually(
      async () => sentFor(event.data.orderId).length,
      (n) => n === 1,
      15_000,
    );
  });
});
