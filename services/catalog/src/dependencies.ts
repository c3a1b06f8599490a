import type { Infrastructure } from '@tracemart/platform';
import { createProductStore } from './data/products';
import { seedCatalog } from './use-cases/seed-catalog';

/** What the catalog use cases run with; the demo catalog is seeded before the service takes requests. */
export async function catalogDependencies({ db, logger }: Infrastructure) {
  const deps = { logger, products: await createProductStore(db) };
  await seedCatalog(deps);
  return deps;
}
export type CatalogDeps = Awaited<ReturnType<typeof catalogDependencies>>;
