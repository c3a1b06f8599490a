import { randomUUID } from 'node:crypto';
import { AppError, canonicalHash, getMeter, keyedUuid, type Logger, type OutboxRelay } from '@tracemart/platform';
import type { CancelReason, PlaceOrderBody } from '@tracemart/contracts';
import type { CatalogClient } from './catalog-client';
import { ConcurrencyError, type OrderEventStore, type StoredEvent } from './data/event-store';
import { cancel, confirm, place, priceLines, replay, type OrderEvent, type OrderState } from './domain/order';

const meter = getMeter();
/** Orders accepted for processing. */
const placed = meter.createCounter('tracemart.orders.placed', { unit: '{order}', description: 'Orders placed' });
/** Orders that reached CONFIRMED. */
const confirmed = meter.createCounter('tracemart.orders.confirmed', { unit: '{order}', description: 'Orders confirmed' });
/** Orders that reached CANCELLED, by reason (OUT_OF_STOCK, PAYMENT_DECLINED, SAGA_TIMEOUT). */
const cancelled = meter.createCounter('tracemart.orders.cancelled', { unit: '{order}', description: 'Orders cancelled' });
/** Revenue of confirmed orders, in cents. */
const revenue = meter.createCounter('tracemart.revenue', { unit: '{cent}', description: 'Revenue of confirmed orders in cents' });
/** Saga duration from placement to a terminal state, by outcome (confirmed|cancelled). */
const sagaDuration = meter.createHistogram('tracemart.saga.duration', {
  unit: 's',
  description: 'Order saga duration, placement to terminal state',
  advice: { explicitBucketBoundaries: [0.01, 0.025, 0.05, 0.1, 0.15, 0.25, 0.5, 1, 2.5, 5, 10, 30] },
});

export interface OrderView {
  id: string;
  status: OrderState['status'];
  items: OrderState['items'];
  totalCents: number;
  reason?: CancelReason;
  createdAt: string;
  updatedAt: string;
}

function toView(state: OrderState, events: StoredEvent[]): OrderView {
  const first = events[0];
  const last = events[events.length - 1];
  return {
    id: state.id,
    status: state.status,
    items: state.items,
    totalCents: state.totalCents,
    ...(state.reason ? { reason: state.reason } : {}),
    createdAt: (first?.occurredAt ?? new Date()).toISOString(),
    updatedAt: (last?.occurredAt ?? new Date()).toISOString(),
  };
}

export interface PlacedOrder {
  order: OrderView;
  /** True when an Idempotency-Key named an order placed before: `order` is that first answer again. */
  replayed: boolean;
}

const MAX_APPEND_ATTEMPTS = 5;

export function createOrderUseCases(deps: { store: OrderEventStore; relay: OutboxRelay; catalog: CatalogClient; logger: Logger }) {
  const { store, relay, catalog, logger } = deps;

  /**
   * Appends and publishes. An event published here is not marked published yet: the order's one bookkeeping write,
   * when it settles, marks all of its events at once (`markSettled`). Until then the relay's sweep, which finds it
   * unmarked, knows it published it (`wasPublished`) and leaves it alone; after a restart it republishes it, and
   * JetStream's duplicate window drops the copy.
   */
  async function commit(streamId: string, version: number, events: OrderEvent[], correlationId: string, extra: { requestHash?: string } = {}): Promise<StoredEvent[]> {
    const stored = await store.append(streamId, version, events, correlationId, extra);
    // A failed publish is the sweep's to retry (it marks the event once it is on the bus).
    await relay.publishNow(stored.map((doc) => ({ event: doc.envelope, markPublished: async () => undefined })));
    return stored;
  }

  /** Loads, decides and appends, retrying when another writer appended first (optimistic concurrency). */
  /** Returns the events appended, the history it decided on and when the order was placed. */
  async function decide(orderId: string, decision: (state: OrderState) => OrderEvent[]): Promise<{ stored: StoredEvent[]; history: StoredEvent[]; placedAt: Date }> {
    for (let attempt = 1; ; attempt += 1) {
      const history = await store.load(orderId);
      const state = replay(history.map(store.toDomain));
      if (!state) throw new AppError('not_found', 'ORDER.NOT_FOUND', `no order ${orderId}`);
      try {
        const stored = await commit(orderId, state.version, decision(state), orderId);
        return { stored, history, placedAt: history[0]?.occurredAt ?? new Date() };
      } catch (err) {
        if (!(err instanceof ConcurrencyError) || attempt >= MAX_APPEND_ATTEMPTS) throw err;
        logger.debug({ orderId, attempt }, 'concurrent append, retrying');
      }
    }
  }

  function recordTerminal(stored: StoredEvent[], placedAt: Date): void {
    for (const doc of stored) {
      const seconds = (doc.occurredAt.getTime() - placedAt.getTime()) / 1000;
      if (doc.type === 'orders.confirmed' && 'totalCents' in doc.data) {
        confirmed.add(1);
        revenue.add(doc.data.totalCents);
        sagaDuration.record(seconds, { outcome: 'confirmed' });
        logger.info({ orderId: doc.streamId }, 'order confirmed');
      } else if (doc.type === 'orders.cancelled' && 'reason' in doc.data) {
        cancelled.add(1, { reason: doc.data.reason });
        sagaDuration.record(seconds, { outcome: 'cancelled' });
        logger.info({ orderId: doc.streamId, reason: doc.data.reason }, 'order cancelled');
      }
    }
  }

  async function settle(orderId: string, decision: (state: OrderState) => OrderEvent[]): Promise<void> {
    const { stored, history, placedAt } = await decide(orderId, decision);
    // Also when nothing was decided (already terminal): a mark lost in a crash is made again when the sweeper retries.
    const all = [...history, ...stored];
    store.markSettled(
      orderId,
      all.every((doc) => doc.published || relay.wasPublished(doc._id)),
    );
    recordTerminal(stored, placedAt);
  }

  /**
   * A repeat of a checkout with the same Idempotency-Key: the order it names exists. The original answer (the
   * order as placed) comes back if the body is the same, 422 if it differs.
   */
  async function replayPlacement(orderId: string, userId: string, requestHash: string): Promise<PlacedOrder> {
    const [first] = await store.load(orderId);
    const state = first ? replay([store.toDomain(first)]) : undefined;
    if (!first || !state || state.userId !== userId) throw new Error(`order ${orderId} named by an idempotency key is missing`);
    if (first.requestHash !== requestHash) {
      throw new AppError('unprocessable', 'IDEMPOTENCY.KEY_REUSED', 'this Idempotency-Key was used with a different request body');
    }
    return { order: toView(state, [first]), replayed: true };
  }

  return {
    /**
     * Prices and places an order. With an Idempotency-Key the order's id is derived from the user and the key, so a
     * repeat cannot place a second order: the event store's unique (streamId, version) refuses it.
     */
    async placeOrder(userId: string, body: PlaceOrderBody, idempotencyKey?: string): Promise<PlacedOrder> {
      const products = await catalog.getProducts(body.items.map((item) => item.productId));
      const priced = priceLines(body.items, products);
      if ('error' in priced) {
        if (priced.error === 'UNKNOWN_PRODUCT') {
          throw new AppError('unprocessable', 'ORDER.UNKNOWN_PRODUCT', `unknown product ${priced.productId}`, { details: { productId: priced.productId } });
        }
        throw new AppError('unprocessable', 'ORDER.TOTAL_TOO_LARGE', 'order total exceeds the limit');
      }
      const orderId = idempotencyKey === undefined ? randomUUID() : keyedUuid(`order:${userId}`, idempotencyKey);
      const requestHash = idempotencyKey === undefined ? undefined : canonicalHash(body);
      let stored: StoredEvent[];
      try {
        stored = await commit(orderId, 0, place({ orderId, userId, ...priced, paymentToken: body.paymentToken }), orderId, requestHash ? { requestHash } : {});
      } catch (err) {
        if (err instanceof ConcurrencyError && requestHash) return replayPlacement(orderId, userId, requestHash);
        throw err;
      }
      placed.add(1);
      logger.info({ orderId, lines: priced.items.length, totalCents: priced.totalCents }, 'order placed');
      const state = replay(stored.map(store.toDomain));
      if (!state) throw new Error('placed order has no state');
      return { order: toView(state, stored), replayed: false };
    },

    /** The order as it is, or as it was at `asOf`; only its owner may see it (others get 404). */
    async getOrder(userId: string, orderId: string, asOf?: Date): Promise<OrderView> {
      const history = await store.load(orderId, asOf);
      const state = replay(history.map(store.toDomain));
      if (!state || state.userId !== userId) throw new AppError('not_found', 'ORDER.NOT_FOUND', `no order ${orderId}`);
      return toView(state, history);
    },

    async history(userId: string, orderId: string) {
      const history = await store.load(orderId);
      const state = replay(history.map(store.toDomain));
      if (!state || state.userId !== userId) throw new AppError('not_found', 'ORDER.NOT_FOUND', `no order ${orderId}`);
      return history.map((doc) => ({ type: doc.type, version: doc.version, occurredAt: doc.occurredAt.toISOString(), traceId: doc.traceId ?? null }));
    },

    confirm: (orderId: string) => settle(orderId, confirm),
    cancel: (orderId: string, reason: CancelReason) => settle(orderId, (state) => cancel(state, reason)),

    /** Orders still PENDING after `timeoutMs`: the saga sweeper cancels them (compensation follows). */
    stalePending: (timeoutMs: number, limit = 100) => store.unsettledBefore(new Date(Date.now() - timeoutMs), limit),
  };
}
export type OrderUseCases = ReturnType<typeof createOrderUseCases>;
