import { defineService } from '@tracemart/platform';
import { eventCatalog } from '@tracemart/contracts';
import { configSchema } from './config';
import { notificationDependencies } from './dependencies';
import { notificationRoutes } from './http/routes';
import { retentionSweep } from './jobs/retention-sweep';
import { notifyCustomer } from './use-cases/notify-customer';

/**
 * Notification: emails customers when their order is confirmed or cancelled, through a rate-limited provider, and
 * keeps the messages in their inbox for a while. Partitioned by order id across the notification instances (one
 * order's notifications are decided by one instance at a time); the provider's bounded concurrency is the consumer's
 * max ack pending, shared out over the partitions.
 */
export const notificationModule = defineService({
  name: 'notification',
  configSchema,
  events: eventCatalog,
  dependencies: notificationDependencies,
  routes: notificationRoutes,
  consumers: [
    {
      durable: 'notification-orders',
      partitioned: true,
      on: { 'orders.confirmed': notifyCustomer, 'orders.cancelled': notifyCustomer },
      // The email leaves the database: each event id is claimed, so a redelivery after the send does not send again.
      claims: true,
      settings: (config) => ({
        // Bounded concurrency in front of the rate-limited provider: the backlog waits in JetStream.
        maxAckPending: config.NOTIFICATION_MAX_ACK_PENDING,
        maxDeliver: config.NOTIFICATION_MAX_DELIVER,
        // Transient provider failures come back after growing delays; after maxDeliver: DEADLETTER.
        backoffMs: [500, 1_000, 2_000, 4_000, 8_000],
      }),
    },
  ],
  background: (deps, config) => [deps.notifications.relay, retentionSweep(deps, config)],
});
