import { defineService } from '@tracemart/platform';
import { eventCatalog } from '@tracemart/contracts';
import { configSchema } from './config';
import { orderDependencies } from './dependencies';
import { orderRoutes } from './http/routes';
import { sagaSweeper } from './jobs/saga-sweeper';
import { summaryStreams } from './projections/order-summary';
import { cancelDeclinedOrder } from './use-cases/cancel-declined-order';
import { cancelOutOfStockOrder } from './use-cases/cancel-out-of-stock-order';
import { confirmOrder } from './use-cases/confirm-order';
import { projectOrderSummary } from './use-cases/project-order-summary';

/**
 * Order: placement (priced through the catalog) and the order side of the choreographed saga, event-sourced; the
 * CQRS read model of order summaries; the saga timeout. Every consumer and the sweeper are partitioned by order id
 * across the order instances (leases in NATS KV).
 * No processed-event claims: a decision is idempotent by itself (a terminal order decides nothing more, and two
 * concurrent decisions meet at the event store's unique version), and so is the projection (applied event ids).
 */
export const orderModule = defineService({
  name: 'order',
  configSchema,
  events: eventCatalog,
  dependencies: orderDependencies,
  routes: orderRoutes,
  consumers: [
    // The saga's decisions, sharded by order id: each partition's events go to the one instance that owns it.
    { durable: 'order-payments', partitioned: true, on: { 'payments.charged': confirmOrder, 'payments.declined': cancelDeclinedOrder } },
    { durable: 'order-inventory', partitioned: true, on: { 'inventory.rejected': cancelOutOfStockOrder } },
    // The CQRS read model: one projector consumer per stream it joins, partitioned too (one order's summary is updated
    // by one instance at a time: FerretDB's updates of one document are not atomic across connections).
    ...summaryStreams.map((stream) => ({ durable: `order-summary-${stream.name.toLowerCase()}`, partitioned: true, stream, all: projectOrderSummary })),
  ],
  background: (deps, config) => [
    // The event store's outbox relay; its bookkeeping (published and settled marks) is waited for once NATS drained.
    { start: () => deps.orders.relay.start(), stop: () => deps.orders.relay.stop(), flush: () => deps.orders.flush() },
    sagaSweeper(deps, config),
  ],
});
