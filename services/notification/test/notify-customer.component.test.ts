import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { paymentTokenSeal } from '@tracemart/contracts';
import { eventsOf, eventually, testEvent, useComponent } from '@tracemart/testing';
import { notificationModule } from '../src/module';

interface Notification {
  id: string;
  orderId: string;
  kind: string;
  subject: string;
  body: string;
  status: string;
  createdAt: string;
}

/** High enough that the provider never holds a send back here; rate limiting has its own file. */
const EMAIL_RATE_PER_SECOND = 1000;

const notification = useComponent(notificationModule, { EMAIL_RATE_PER_SECOND: String(EMAIL_RATE_PER_SECOND) });
const sentEvents = notification.observe('NOTIFICATIONS', 'notifications.>');

const notificationsOf = async (userId: string) => (await notification.as(userId).get<{ items: Notification[] }>('/notifications')).body.items;
const newUserId = () => `user-${randomUUID()}`;
const confirmed = (userId: string, orderId = randomUUID(), totalCents = 12_345) => testEvent('orders.confirmed', { orderId, userId, totalCents });

/** Waits until the service has handled every order event published so far and its own events are recorded. */
async function settled(): Promise<void> {
  await notification.settled('notification-orders');
  await notification.settled('test-observer-notifications');
}

describe('notifying customers about their orders', () => {
  it('when an order is confirmed, then its owner, and only its owner, sees a SENT notification', async () => {
    const owner = newUserId();
    const stranger = newUserId();
    const event = confirmed(owner, randomUUID(), 12_345);
    await notification.bus.publish(event);

    const [sent] = await eventually(
      () => notificationsOf(owner),
      (items) => items.some((n) => n.status === 'SENT'),
    );
    expect(sent).toMatchObject({ orderId: event.data.orderId, kind: 'order-confirmed', status: 'SENT' });
    expect(sent?.body).toContain('123.45');
    expect(await notificationsOf(stranger)).toEqual([]);
    const published = await eventually(
      async () => eventsOf(sentEvents, event.data.orderId),
      (events) => events.length === 1,
    );
    expect(published[0]?.data).toEqual({ notificationId: sent?.id, orderId: event.data.orderId, userId: owner, kind: 'order-confirmed' });
  });

  it('when GET /notifications has no identity assertion, then 401', async () => {
    const response = await notification.api.get<{ error: { code: string } }>('/notifications');
    expect(response.status).toBe(401);
    expect(response.body.error.code).toBe('AUTH.REQUIRED');
  });

  it('when GET /notifications on the service port names a user in a bare x-user-id, then 401 and none of theirs is shown', async () => {
    const owner = newUserId();
    await notification.bus.publish(confirmed(owner));
    await eventually(
      () => notificationsOf(owner),
      (items) => items.length > 0,
    );
    const spoofed = await notification.api.get<{ error: { code: string } }>('/notifications', { 'x-user-id': owner });
    expect(spoofed.status).toBe(401);
    expect(spoofed.body.error.code).toBe('AUTH.REQUIRED');
  });

  it('when the same confirmation is delivered again, then there is one notification and one send', async () => {
    const userId = newUserId();
    const event = confirmed(userId);
    await notification.bus.publish(event);
    await eventually(
      () => notificationsOf(userId),
      (items) => items.some((n) => n.status === 'SENT'),
    );

    await notification.bus.publish({ ...event, id: randomUUID() }); // a new event id gets past JetStream's duplicate window
    await settled();

    expect(await notificationsOf(userId)).toHaveLength(1);
    expect(eventsOf(sentEvents, event.data.orderId)).toHaveLength(1);
  });

  it('when copies of a confirmation under new event ids are delivered concurrently, then there is one notification and one send', async () => {
    // Several orders, each confirmed eight times at once under new event ids: a race needs only one of them to lose.
    const userId = newUserId();
    const events = Array.from({ length: 10 }, () => confirmed(userId));
    const copies = events.flatMap((event) => [event, ...Array.from({ length: 7 }, () => ({ ...event, id: randomUUID() }))]);
    await Promise.all(copies.map((copy) => notification.bus.publish(copy)));
    await eventually(
      () => notificationsOf(userId),
      (items) => items.filter((n) => n.status === 'SENT').length === events.length,
    );
    await settled();

    expect(await notificationsOf(userId)).toHaveLength(events.length);
    const sendsPerOrder = events.map((event) => eventsOf(sentEvents, event.data.orderId).length);
    expect(sendsPerOrder).toEqual(events.map(() => 1));
  });

  it('when an order is cancelled, then the notification says why', async () => {
    const userId = newUserId();
    const orderId = randomUUID();
    await notification.bus.publish(testEvent('orders.cancelled', { orderId, userId, reason: 'OUT_OF_STOCK' }));

    const [sent] = await eventually(
      () => notificationsOf(userId),
      (items) => items.some((n) => n.status === 'SENT'),
    );
    expect(sent).toMatchObject({ orderId, kind: 'order-cancelled', status: 'SENT' });
    expect(sent?.body).toMatch(/out of stock/i);
  });

  it('when an order is placed, then nobody is notified', async () => {
    const userId = newUserId();
    const orderId = randomUUID();
    await notification.bus.publish(
      testEvent('orders.placed', {
        orderId,
        userId,
        items: [{ productId: 'mug', name: 'Mug', quantity: 1, unitPriceCents: 100 }],
        totalCents: 100,
        // Sealed for the payment service: notification never opens it.
        paymentTokenSealed: paymentTokenSeal('k'.repeat(32)).seal('tok_visa', orderId),
      }),
    );
    await settled();
    expect(await notificationsOf(userId)).toEqual([]);
  });
});
