import { startService, type EventEnvelope, type RunningService } from '@tracemart/platform';
import { allStreams, streams, validateEvent } from '@tracemart/contracts';
import { createCatalogClient } from './catalog-client';
import type { Config } from './config';
import { createOrderEventStore } from './data/event-store';
import { orderRoutes } from './http/routes';
import { orderSagaHandler } from './messaging/handlers';
import { createOrderProjector } from './projections/projector';
import { createSagaSweeper } from './saga-sweeper';
import { createOrderUseCases } from './use-cases';

export async function start(config: Config): Promise<RunningService> {
  return startService({
    config,
    streams: allStreams,
    validateEvent,
    wire: async ({ db, app, logger, outbox, bus }) => {
      const store = await createOrderEventStore(db, logger);
      const relay = outbox([store.outboxSource()]);
      if (config.TEST_CRASH_BEFORE_PUBLISH) relay.enableCrashPoint(config.TEST_CRASH_BEFORE_PUBLISH);
      const catalog = createCatalogClient({ gatewayUrl: config.GATEWAY_URL, timeoutMs: config.CATALOG_TIMEOUT_MS, cacheTtlMs: config.CATALOG_CACHE_TTL_MS });
      const orders = createOrderUseCases({ store, relay, catalog, logger });
      const projector = createOrderProjector(db);
      // "My orders" looks summaries up by user: an index lookup (on FerretDB through its PostgreSQL twin).
      await projector.collection.createIndex({ userId: 1 });
      app.use('/orders', orderRoutes(orders, projector));
      const handler = orderSagaHandler(orders);
      const sweeper = createSagaSweeper({
        bus,
        db,
        orders,
        logger,
        instanceId: config.INSTANCE_ID,
        timeoutMs: config.SAGA_TIMEOUT_MS,
        intervalMs: config.SAGA_SWEEP_INTERVAL_MS,
        leaseTtlMs: config.LEADER_LEASE_TTL_MS,
      });
      return {
        consumers: [
          // No processed-event claims: a decision is idempotent by itself (a terminal order decides nothing more, and
          // two concurrent decisions meet at the event store's unique version), so a claim would only add two writes.
          {
            stream: streams.payments.name,
            durable: 'order-payments',
            subject: 'payments.>',
            handles: ['payments.charged', 'payments.declined'],
            decode: validateEvent,
            handler,
            processed: undefined,
          },
          { stream: streams.inventory.name, durable: 'order-inventory', subject: 'inventory.rejected', decode: validateEvent, handler, processed: undefined },
          // The CQRS read model: one projector consumer per stream it joins.
          ...[streams.orders, streams.inventory, streams.payments, streams.notifications].map((stream) => ({
            stream: stream.name,
            durable: `order-summary-${stream.name.toLowerCase()}`,
            subject: stream.subjects[0] ?? '>',
            decode: validateEvent,
            // The projection is idempotent by itself (applied event ids): no per-message claim writes.
            processed: undefined,
            handler: async (event: EventEnvelope) => {
              await projector.apply(event);
              return 'ack' as const;
            },
          })),
        ],
        background: [
          { start: () => relay.start(), stop: () => relay.stop() },
          { start: () => sweeper.start(), stop: () => sweeper.stop() },
        ],
        flushOnStop: [() => store.flush()],
      };
    },
  });
}
