import { defineService } from '@tracemart/platform';
import { eventCatalog } from '@tracemart/contracts';
import { configSchema } from './config';
import { catalogDependencies } from './dependencies';
import { productRoutes } from './http/routes';

/** Catalog: browse, search and view products, seeded from the demo catalog at start. It consumes no events. */
export const catalogModule = defineService({
  name: 'catalog',
  configSchema,
  events: eventCatalog,
  dependencies: catalogDependencies,
  routes: productRoutes,
});
