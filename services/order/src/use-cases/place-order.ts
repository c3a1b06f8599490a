import { randomUUID } from 'node:crypto';
import { AppError, canonicalHash, keyedUuid } from '@tracemart/platform';
import type { PlaceOrderBody } from '@tracemart/contracts';
import { ConcurrencyError } from '../data/event-store';
import { place, priceLines, replay } from '../domain/order';
import type { OrderDeps } from '../dependencies';
import { placed } from './metrics';
import { toView, type OrderView } from './order-view';

export interface PlacedOrder {
  order: OrderView;
  /** True when an Idempotency-Key named an order placed before: `order` is that first answer again. */
  replayed: boolean;
}

/**
 * Prices and places an order. With an Idempotency-Key the order's id is derived from the user and the key, so a
 * repeat cannot place a second order: the event store's unique (streamId, version) refuses it.
 */
export async function placeOrder(deps: OrderDeps, command: { userId: string; body: PlaceOrderBody; idempotencyKey?: string | undefined }): Promise<PlacedOrder> {
  const { orders, catalog, paymentTokens, logger } = deps;
  const { userId, body, idempotencyKey } = command;
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
  let stored;
  try {
    const paymentTokenSealed = paymentTokens.seal(body.paymentToken, orderId);
    stored = await orders.append(orderId, 0, place({ orderId, userId, ...priced, paymentTokenSealed }), orderId, requestHash ? { requestHash } : {});
  } catch (err) {
    if (err instanceof ConcurrencyError && requestHash) return replayPlacement(deps, orderId, userId, requestHash);
    throw err;
  }
  placed.add(1);
  logger.info({ orderId, lines: priced.items.length, totalCents: priced.totalCents }, 'order placed');
  const state = replay(stored);
  if (!state) throw new Error('placed order has no state');
  return { order: toView(state, stored), replayed: false };
}

/**
 * A repeat of a checkout with the same Idempotency-Key: the order it names exists. The original answer (the
 * order as placed) comes back if the body is the same, 422 if it differs.
 */
async function replayPlacement({ orders }: OrderDeps, orderId: string, userId: string, requestHash: string): Promise<PlacedOrder> {
  const [first] = await orders.load(orderId);
  const state = first ? replay([first]) : undefined;
  if (!first || !state || state.userId !== userId) throw new Error(`order ${orderId} named by an idempotency key is missing`);
  if (first.requestHash !== requestHash) {
    throw new AppError('unprocessable', 'IDEMPOTENCY.KEY_REUSED', 'this Idempotency-Key was used with a different request body');
  }
  return { order: toView(state, [first]), replayed: true };
}
