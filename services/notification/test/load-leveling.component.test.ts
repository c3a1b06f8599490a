import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeadLetters, loadConfig, type EventBus, type EventEnvelope, type RunningService } from '@tracemart/platform';
import { consumerSettled, connectTestBus, recordEvents, testEvent } from '../../../tests/support/events';
import { eventually, serviceEnv, startTestInfra } from '../../../tests/support/infra';
import { configSchema } from '../src/config';
import { start } from '../src/start';

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

type Infra = Awaited<ReturnType<typeof startTestInfra>>;
let infra: Infra;
let bus: EventBus;
let sent: EventEnvelope[];

beforeAll(async () => {
  infra = await startTestInfra();
  bus = await connectTestBus(infra.natsUrl);
  ({ events: sent } = await recordEvents(bus, 'NOTIFICATIONS', 'notifications.>'));
});

afterAll(async () => {
  await bus?.drain();
  await infra?.stop();
});

describe('load leveling in front of the rate-limited email provider', () => {
  it(`when ${BURST} notifications arrive at once, then they drain at the provider's ${RATE}/s with at most ${MAX_ACK_PENDING} in flight and the backlog waiting in JetStream, none lost and none twice`, async () => {
    const service: RunningService = await start(
      loadConfig(configSchema, serviceEnv(infra, { EMAIL_RATE_PER_SECOND: String(RATE), NOTIFICATION_MAX_ACK_PENDING: String(MAX_ACK_PENDING) })),
    );
    try {
      const userId = `burst-${randomUUID()}`;
      const events = Array.from({ length: BURST }, () => testEvent('orders.confirmed', { orderId: randomUUID(), userId, totalCents: 100 }));
      const ids = new Set(events.map((e) => e.data.orderId));
      const mine = () => sent.filter((e) => ids.has((e.data as { orderId: string }).orderId));
      await new Promise((r) => setTimeout(r, 300));
      const startedAt = Date.now();
      await Promise.all(events.map((e) => bus.publish(e)));
      let maxAckPending = 0;
      let maxPending = 0;
      await eventually(
        async () => {
          const info = await bus.jsm.consumers.info('ORDERS', 'notification-orders');
          maxAckPending = Math.max(maxAckPending, info.num_ack_pending);
          maxPending = Math.max(maxPending, info.num_pending);
          return mine().length;
        },
        (count) => count >= BURST,
        (BURST / RATE) * 2 * 1000,
      );
      const elapsedSeconds = (Date.now() - startedAt) / 1000;
      await consumerSettled(bus, 'ORDERS', 'notification-orders');
      expect(mine()).toHaveLength(BURST);
      expect(new Set(mine().map((e) => (e.data as { orderId: string }).orderId))).toEqual(ids);
      expect(maxAckPending).toBeLessThanOrEqual(MAX_ACK_PENDING);
      expect(maxPending).toBeGreaterThan(BURST / 2); // the backlog waited in the stream, not in memory
      expect(elapsedSeconds).toBeGreaterThanOrEqual((BURST - Math.ceil(RATE / 10)) / RATE);
      expect(elapsedSeconds).toBeLessThanOrEqual((BURST / RATE) * 1.9); // paced, not stalled (slack for a busy CI machine)
    } finally {
      await service.stop();
    }
  }, 260_000);

  it('when the provider keeps failing, then the notification is dead-lettered after the configured attempts and can be re-driven once it recovers', async () => {
    const admin = { 'x-admin-token': 'test-admin-token', 'content-type': 'application/json' };
    const failing = await start(loadConfig(configSchema, serviceEnv(infra, { EMAIL_FAILURE_RATE: '1', NOTIFICATION_MAX_DELIVER: '3', ADMIN_TOKEN: admin['x-admin-token'] })));
    const event = testEvent('orders.cancelled', { orderId: randomUUID(), userId: `poison-${randomUUID()}`, reason: 'OUT_OF_STOCK' });
    const letters = new DeadLetters(bus, ['notification-orders']);
    let listed;
    try {
      await bus.publish(event);
      listed = await eventually(
        async () => (await letters.list()).filter((l) => l.payload.includes(event.id)),
        (items) => items.length === 1,
        30_000,
      );
      expect(listed[0]).toMatchObject({ consumer: 'notification-orders', deliveryCount: 3 });
      // The same list through the service's admin API, which refuses callers without the credential.
      expect((await fetch(`${failing.url}/admin/deadletters`)).status).toBe(401);
      const viaApi = (await (await fetch(`${failing.url}/admin/deadletters`, { headers: admin })).json()) as { items: { sequence: number }[] };
      expect(viaApi.items.map((l) => l.sequence)).toContain(listed[0]?.sequence);
      expect(sent.some((e) => (e.data as { orderId: string }).orderId === event.data.orderId)).toBe(false);
    } finally {
      await failing.stop();
    }
    const healthy = await start(loadConfig(configSchema, serviceEnv(infra, { ADMIN_TOKEN: admin['x-admin-token'] })));
    try {
      const redrive = await fetch(`${healthy.url}/admin/deadletters/${listed[0]?.sequence ?? -1}/redrive`, { method: 'POST', headers: admin });
      expect(redrive.status).toBe(202);
      await eventually(
        async () => sent.filter((e) => (e.data as { orderId: string }).orderId === event.data.orderId).length,
        (n) => n === 1,
        15_000,
      );
    } finally {
      await healthy.stop();
    }
  });
});
