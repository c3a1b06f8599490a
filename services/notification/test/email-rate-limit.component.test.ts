import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, type EventBus, type EventEnvelope, type RunningService } from '@tracemart/platform';
import { USER_ID_HEADER } from '@tracemart/contracts';
import { apiClient, type ApiClient } from '../../../tests/support/api-client';
import { consumerSettled, connectTestBus, recordEvents, testEvent } from '../../../tests/support/events';
import { eventually, serviceEnv, startTestInfra } from '../../../tests/support/infra';
import { configSchema } from '../src/config';
import { start } from '../src/start';

type Infra = Awaited<ReturnType<typeof startTestInfra>>;

/**
 * Low on purpose: with no limit at all this service handles a burst of 50 to 100 confirmations in about
 * two seconds (FerretDB bound), so at 50/s a lower bound of (100 - 5) / 50 = 1.9 s would hold even if the
 * limiter were removed. At 10/s the bound (4.9 s) is more than twice the unlimited duration.
 */
const EMAIL_RATE_PER_SECOND = 10;
/** Sends the provider allows at once before the rate applies: its token bucket holds a tenth of a second. */
const BURST_CAPACITY = Math.ceil(EMAIL_RATE_PER_SECOND / 10);
const BURST = 50;

let infra: Infra;
let service: RunningService;
let api: ApiClient;
let bus: EventBus;
let sentEvents: EventEnvelope[];

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

describe('the email provider is rate limited and the backlog waits in JetStream', () => {
  it(`when ${BURST} confirmations arrive at once, then each is sent exactly once, no faster than ${EMAIL_RATE_PER_SECOND} per second`, async () => {
    const userId = `user-${randomUUID()}`;
    const events = Array.from({ length: BURST }, () => testEvent('orders.confirmed', { orderId: randomUUID(), userId, totalCents: 1_000 }));
    const orderIds = new Set(events.map((e) => e.data.orderId));
    const sentForBurst = () => sentEvents.filter((e) => orderIds.has((e.data as { orderId: string }).orderId));
    await new Promise((r) => setTimeout(r, 500)); // the bucket is full: the burst gets its whole capacity

    const startedAt = Date.now();
    await Promise.all(events.map((event) => bus.publish(event)));
    await eventually(
      async () => sentForBurst().length,
      (count) => count >= BURST,
      60_000,
    );
    const elapsedMs = Date.now() - startedAt;
    await consumerSettled(bus, 'ORDERS', 'notification-orders');
    await consumerSettled(bus, 'NOTIFICATIONS', 'test-observer-notifications');

    const listed = await api.get<{ items: { orderId: string; status: string }[] }>('/notifications', { [USER_ID_HEADER]: userId });
    expect(listed.body.items).toHaveLength(BURST);
    expect(listed.body.items.every((n) => n.status === 'SENT')).toBe(true);
    expect(new Set(sentForBurst().map((e) => (e.data as { orderId: string }).orderId))).toEqual(orderIds);
    expect(sentForBurst()).toHaveLength(BURST);
    expect(elapsedMs).toBeGreaterThanOrEqual(((BURST - BURST_CAPACITY) / EMAIL_RATE_PER_SECOND) * 1000);
  });
});
