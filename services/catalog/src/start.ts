import { startService, type RunningService } from '@tracemart/platform';
import { allStreams, validateEvent } from '@tracemart/contracts';
import { seedProducts } from '@tracemart/catalog-seed';
import type { Config } from './config';
import { createProductRepository } from './data/products';
import { productRoutes } from './http/routes';

export async function start(config: Config): Promise<RunningService> {
  return startService({
    config,
    streams: allStreams,
    validateEvent,
    wire: async ({ db, app, logger }) => {
      const products = await createProductRepository(db);
      const inserted = await products.seed(seedProducts);
      if (inserted > 0) logger.info({ inserted }, 'catalog seeded');
      app.use('/products', productRoutes(products));
      return {};
    },
  });
}
