import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { eventually, testEvent, useComponent } from '@tracemart/testing';
import { notificationModule } from '../src/module';

/**
 * Low on purpose: with no limit at all this service handles a burst of 50 to 100 confirmations in about
 * two seconds (FerretDB bound), so at 50/s a lower bound of (100 - 5) / 50 = 1.9 s would hold even if the
 * limiter were removed. At 10/s the bound (4.9 s) is more than twice the unlimited duration.
 */
const EMAIL_RATE_PER_SECOND = 10;
/** Sends the provider allows at once before the rate applies: its token bucket holds a tenth of a second. */
const BURST_CAPACITY = Math.ceil(EMAIL_RATE_PER_SECOND / 10);
const BURST = 50;

const notification = useComponent(notificationModule, { EMAIL_RATE_PER_SECOND: String(EMAIL_RATE_PER_SECOND) });
const sentEvents = notification.observe('NOTIFICATIONS', 'notifications.>');

describe('the email provider is rate limited and the backlog waits in JetStream', () => {
  it(`when ${BURST} confirmations arrive at once, then each is sent exactly once, no faster than ${EMAIL_RATE_PER_SECOND} per second`, async () => {
    const userId = `user-${randomUUID()}`;
    const events = Array.from({ length: BURST }, () => testEvent('orders.confirmed', { orderId: randomUUID(), userId, totalCents: 1_000 }));
    const orderIds = new Set(events.map((e) => e.data.orderId));
    const sentForBurst = () => sentEvents.filter((e) => orderIds.has((e.data as { orderId: string }).orderId));

    // No wait for the bucket to fill first: a bucket that is not full only makes the burst slower, and the bound is a lower one.
    const startedAt = Date.now();
    await Promise.all(events.map((event) => notification.bus.publish(event)));
    await eventually(
      async () => sentForBurst().length,
      (count) => count >= BURST,
      60_000,
    );
    const elapsedMs = Date.now() - startedAt;
    await notification.settled('notification-orders');
    await notification.settled('test-observer-notifications');

    const listed = await notification.as(userId).get<{ items: { orderId: string; status: string }[] }>('/notifications');
    expect(listed.body.items).toHaveLength(BURST);
    expect(listed.body.items.every((n) => n.status === 'SENT')).toBe(true);
    expect(new Set(sentForBurst().map((e) => (e.data as { orderId: string }).orderId))).toEqual(orderIds);
    expect(sentForBurst()).toHaveLength(BURST);
    expect(elapsedMs).toBeGreaterThanOrEqual(((BURST - BURST_CAPACITY) / EMAIL_RATE_PER_SECOND) * 1000);
  });
});
