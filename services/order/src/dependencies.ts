import type { Infrastructure } from '@tracemart/platform';
import { paymentTokenSeal } from '@tracemart/contracts';
import { createCatalogClient } from './clients/catalog-client';
import type { Config } from './config';
import { createOrderEventStore } from './data/event-store';
import { partitionFences } from './jobs/saga-sweeper';
import { createOrderProjector } from './projections/projector';

/** What the order use cases run with. */
export async function orderDependencies(infra: Infrastructure, config: Config) {
  const { db, logger, outbox } = infra;
  const orders = await createOrderEventStore(db, logger, outbox);
  if (config.TEST_CRASH_BEFORE_PUBLISH) orders.relay.enableCrashPoint(config.TEST_CRASH_BEFORE_PUBLISH);
  const summaries = createOrderProjector(db);
  await summaries.createIndexes();
  return {
    logger,
    /** The event-sourced orders: the event store, which is also their outbox. */
    orders,
    /** The CQRS read model (order summaries joined from every service's events). */
    summaries,
    /** Seals the card token of orders.placed for the payment service. */
    paymentTokens: paymentTokenSeal(config.PAYMENT_TOKEN_KEY),
    catalog: createCatalogClient({ gatewayUrl: config.GATEWAY_URL, timeoutMs: config.CATALOG_TIMEOUT_MS, cacheTtlMs: config.CATALOG_CACHE_TTL_MS }),
    /** Which partitions of the saga this instance owns (its consumers and the sweeper follow them), and their fences. */
    partitions: infra.partitions,
    fences: partitionFences(db),
  };
}
export type OrderDeps = Awaited<ReturnType<typeof orderDependencies>>;
