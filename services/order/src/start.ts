import { createIdempotencyStore, startService, sweepEvery, type EventEnvelope, type RunningService } from '@tracemart/platform';
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
      const store = await createOrderEventStore(db);
      const relay = outbox([store.outboxSource()]);
      if (config.TEST_CRASH_BEFORE_PUBLISH) relay.enableCrashPoint(config.TEST_CRASH_BEFORE_PUBLISH);
      const catalog = createCatalogClient({ gatewayUrl: config.GATEWAY_URL, timeoutMs: config.CATALOG_TIMEOUT_MS });
      const orders = createOrderUseCases({ store, relay, catalog, logger });
      const idempotency = await createIdempotencyStore(db);
      const projector = createOrderProjector(db);
      app.use('/orders', orderRoutes(orders, idempotency, projector));
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
          { stream: streams.payments.name, durable: 'order-payments', subject: 'payments.>', handles: ['payments.charged', 'payments.declined'], decode: validateEvent, handler },
          { stream: streams.inventory.name, durable: 'order-inventory', subject: 'inventory.rejected', decode: validateEvent, handler },
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
          sweepEvery(3600_000, () => idempotency.expire()),
          { start: () => sweeper.start(), stop: () => sweeper.stop() },
        ],
      };
    },
  });
}
