import { embeddedOutbox, startService, sweepEvery, type RunningService } from '@tracemart/platform';
import { allStreams, streams, validateEvent } from '@tracemart/contracts';
import type { Config } from './config';
import { createNotificationStore } from './data/notifications';
import { createEmailProvider } from './email-provider';
import { notificationRoutes } from './http/routes';
import { notificationHandler } from './messaging/handlers';

export async function start(config: Config): Promise<RunningService> {
  return startService({
    config,
    streams: allStreams,
    validateEvent,
    wire: async ({ db, app, logger, outbox }) => {
      const store = await createNotificationStore(db);
      const relay = outbox([embeddedOutbox(store.notifications)]);
      const email = createEmailProvider({ ratePerSecond: config.EMAIL_RATE_PER_SECOND, failureRate: config.EMAIL_FAILURE_RATE });
      app.use('/notifications', notificationRoutes(store));
      return {
        consumers: [
          {
            stream: streams.orders.name,
            durable: 'notification-orders',
            subject: 'orders.>',
            handles: ['orders.confirmed', 'orders.cancelled'],
            decode: validateEvent,
            handler: notificationHandler({ store, relay, email, logger }),
            // Bounded concurrency in front of the rate-limited provider: the backlog waits in JetStream.
            maxAckPending: config.NOTIFICATION_MAX_ACK_PENDING,
            maxDeliver: config.NOTIFICATION_MAX_DELIVER,
            // Transient provider failures come back after growing delays; after maxDeliver: DEADLETTER.
            backoffMs: [500, 1_000, 2_000, 4_000, 8_000],
          },
        ],
        background: [
          { start: () => relay.start(), stop: () => relay.stop() },
          sweepEvery(3600_000, () => store.expire(new Date(Date.now() - config.NOTIFICATION_RETENTION_DAYS * 24 * 3600_000))),
        ],
      };
    },
  });
}
