import { seedProducts } from '@tracemart/catalog-seed';
import { missingProducts, type Product } from '../domain/product';
import type { CatalogDeps } from '../dependencies';

/** At start: adds the demo catalog's products the database does not hold yet (so a restart duplicates nothing). */
export async function seedCatalog({ products, logger }: CatalogDeps, seed: readonly Product[] = seedProducts): Promise<number> {
  const inserted = await products.insertMissing(missingProducts(seed, await products.ids()));
  if (inserted > 0) logger.info({ inserted }, 'catalog seeded');
  return inserted;
}
