import { KeyedLock, type Infrastructure } from '@tracemart/platform';
import { seedProducts } from '@tracemart/catalog-seed';
import type { Config } from './config';
import { createStockStore } from './data/stock';

/** What the inventory use cases run with; every catalog product has a stock record before the first order arrives. */
export async function inventoryDependencies({ db, logger, outbox }: Infrastructure, config: Config) {
  const stock = await createStockStore(db, outbox, { writer: config.INSTANCE_ID });
  const inserted = await stock.seed(seedProducts);
  if (inserted > 0) logger.info({ inserted }, 'stock seeded');
  return {
    logger,
    stock,
    /**
     * Decisions about one order run one at a time: copies of an event under new ids, or a cancellation racing its
     * placement, must not both act on the same reservation.
     */
    perOrder: new KeyedLock(),
  };
}
export type InventoryDeps = Awaited<ReturnType<typeof inventoryDependencies>>;
