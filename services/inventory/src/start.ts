import { embeddedOutbox, startService, type RunningService } from '@tracemart/platform';
import { allStreams, streams, validateEvent } from '@tracemart/contracts';
import { seedProducts } from '@tracemart/catalog-seed';
import type { Config } from './config';
import { createStockStore } from './data/stock';
import { inventoryRoutes } from './http/routes';
import { inventoryHandlers } from './messaging/handlers';

export async function start(config: Config): Promise<RunningService> {
  return startService({
    config,
    streams: allStreams,
    validateEvent,
    wire: async ({ db, app, logger, outbox }) => {
      const store = await createStockStore(db);
      const inserted = await store.seed(seedProducts);
      if (inserted > 0) logger.info({ inserted }, 'stock seeded');
      const relay = outbox([embeddedOutbox(store.reservations)]);
      app.use('/inventory', inventoryRoutes(store));
      return {
        consumers: [
          {
            stream: streams.orders.name,
            durable: 'inventory-orders',
            subject: 'orders.>',
            decode: validateEvent,
            handler: inventoryHandlers({ store, relay, logger }),
            // No processed-event claims: every step is idempotent by itself (`holds` guards each unit, the
            // reservation's unique _id the decision, its status every later transition).
            processed: undefined,
          },
        ],
        background: [{ start: () => relay.start(), stop: () => relay.stop() }],
      };
    },
  });
}
