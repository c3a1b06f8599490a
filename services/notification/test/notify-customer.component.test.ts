import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, type EventBus, type EventEnvelope, type RunningService } from '@tracemart/platform';
import { USER_ID_HEADER } from '@tracemart/contracts';
import { apiClient, type ApiClient } from '../../../tests/support/api-client';
import { consumerSettled, connectTestBus, eventsOf, recordEvents, testEvent } from '../../../tests/support/events';
import { eventually, serviceEnv, startTestInfra } from '../../../tests/support/infra';
import { configSchema } from '../src/config';
import { start } from '../src/start';

type Infra = Awaited<ReturnType<typeof startTestInfra>>;
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

let infra: Infra;
let service: RunningService;
let api: ApiClient;
let bus: EventBus;
let sentEvents: EventEnvelope[];

const notificationsOf = async (userId: string) => (await api.get<{ items: Notification[] }>('/notifications', { [USER_ID_HEADER]: userId })).body.items;
const newUserId = () => `user-${randomUUID()}`;
const confirmed = (userId: string, orderId = randomUUID(), totalCents = 12_345) => testEvent('orders.confirmed', { orderId, userId, totalCents });

/** Waits until the service has handled every order event published so far and its own events are recorded. */
async function settled(): Promise<void> {
  await consumerSettled(bus, 'ORDERS', 'notification-orders');
  await consumerSettled(bus, 'NOTIFICATIONS', 'test-observer-notifications');
}

beforeAll(async () => {
  infra = await startTestInfra();
  service = await start(loadConfig(configSchema, serviceEnv(infra, { EMAIL_RATE_PER_SECOND: String(EMAIL_RATE_PER_SECOND) })));
  api = apiClient(service.url);
  bus = await connectTestBus(infra.natsUrl);
  ({ events: sentEvents } = await recordEvents(bus, 'NOTIFICATIONS', 'notifications.>'));
});

afterAll(async () => {
  await bus?.drain();
  await service?.stop();
  await infra?.stop();
});

describe('notifying customers about their orders', () => {
  it('when an order is confirmed, then its owner, and only its owner, sees a SENT notification', async () => {
    const owner = newUserId();
    const stranger = newUserId();
    const event = confirmed(owner, randomUUID(), 12_345);
    await bus.publish(event);

    const [notification] = await eventually(
      () => notificationsOf(owner),
      (items) => items.some((n) => n.status === 'SENT'),
    );
    expect(notification).toMatchObject({ orderId: event.data.orderId, kind: 'order-confirmed', status: 'SENT' });
    expect(notification?.body).toContain('123.45');
    expect(await notificationsOf(stranger)).toEqual([]);
    const sent = await eventually(
      async () => eventsOf(sentEvents, event.data.orderId),
      (events) => events.length === 1,
    );
    expect(sent[0]?.data).toEqual({ notificationId: notification?.id, orderId: event.data.orderId, userId: owner, kind: 'order-confirmed' });
  });

  it('when GET /notifications has no x-user-id header, then 401', async () => {
    const response = await api.get<{ error: { code: string } }>('/notifications');
    expect(response.status).toBe(401);
    expect(response.body.error.code).toBe('AUTH.REQUIRED');
  });

  it('when the same confirmation is delivered again, then there is one notification and one send', async () => {
    const userId = newUserId();
    const event = confirmed(userId);
    await bus.publish(event);
    await eventually(
      () => notificationsOf(userId),
      (items) => items.some((n) => n.status === 'SENT'),
    );

    await bus.publish({ ...event, id: randomUUID() }); // a new event id gets past JetStream's duplicate window
    await settled();

    expect(await notificationsOf(userId)).toHaveLength(1);
    expect(eventsOf(sentEvents, event.data.orderId)).toHaveLength(1);
  });

  it('when copies of a confirmation under new event ids are delivered concurrently, then there is one notification and one send', async () => {
    // Several orders, each confirmed eight times at once under new event ids: a race needs only one of them to lose.
    const userId = newUserId();
    const events = Array.from({ length: 10 }, () => confirmed(userId));
    const copies = events.flatMap((event) => [event, ...Array.from({ length: 7 }, () => ({ ...event, id: randomUUID() }))]);
    await Promise.all(copies.map((copy) => bus.publish(copy)));
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
    await bus.publish(testEvent('orders.cancelled', { orderId, userId, reason: 'OUT_OF_STOCK' }));

    const [notification] = await eventually(
      () => notificationsOf(userId),
      (items) => items.some((n) => n.status === 'SENT'),
    );
    expect(notification).toMatchObject({ orderId, kind: 'order-cancelled', status: 'SENT' });
    expect(notification?.body).toMatch(/out of stock/i);
  });

  it('when an order is placed, then nobody is notified', async () => {
    const userId = newUserId();
    const orderId = randomUUID();
    await bus.publish(
      testEvent('orders.placed', { orderId, userId, items: [{ productId: 'mug', name: 'Mug', quantity: 1, unitPriceCents: 100 }], totalCents: 100, paymentToken: 'tok_visa' }),
    );
    await settled();
    expect(await notificationsOf(userId)).toEqual([]);
  });
});
