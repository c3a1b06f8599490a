import { defineService } from '@tracemart/platform';
import { eventCatalog } from '@tracemart/contracts';
import { configSchema } from './config';
import { inventoryDependencies } from './dependencies';
import { inventoryRoutes } from './http/routes';
import { commitStock } from './use-cases/commit-stock';
import { releaseStock } from './use-cases/release-stock';
import { reserveStock } from './use-cases/reserve-stock';

/**
 * Inventory: reserves stock when an order is placed, gives it back when the order is cancelled, commits it when the
 * order is confirmed. No processed-event claims: every step is idempotent by itself (the stock ledger's unique
 * take/end per order and product guards the units, the reservation's unique _id the decision, its status every later
 * transition). Partitioned by order id across the inventory instances, so one order's events are handled by one
 * instance at a time; different orders still meet on a product's stock from several instances, and those changes are
 * decided by unique inserts (data/stock.ts), never by a lock.
 */
export const inventoryModule = defineService({
  name: 'inventory',
  configSchema,
  events: eventCatalog,
  dependencies: inventoryDependencies,
  routes: inventoryRoutes,
  consumers: [{ durable: 'inventory-orders', partitioned: true, on: { 'orders.placed': reserveStock, 'orders.cancelled': releaseStock, 'orders.confirmed': commitStock } }],
  background: ({ stock }) => [stock.relay],
});
