import type { CancelReason, OrderLine } from '@tracemart/contracts';

/**
 * The order aggregate, event-sourced: state is a fold over its events, and every decision is a pure
 * function `(command, state) => events | error`. Decisions that arrive late or twice (redelivered saga
 * events) produce no events, which is what makes the order side of the saga idempotent.
 */
export type OrderStatus = 'PENDING' | 'CONFIRMED' | 'CANCELLED';

export type OrderEvent =
  | { type: 'orders.placed'; data: PlacedData }
  | { type: 'orders.confirmed'; data: { orderId: string; userId: string; totalCents: number } }
  | { type: 'orders.cancelled'; data: { orderId: string; userId: string; reason: CancelReason } };

/**
 * What an order is placed with. The card token is sealed for the payment service before it gets here (use case
 * place-order): the event is stored for ever and read by every consumer of the stream, so it never holds the token in
 * clear. Events stored before tokens were sealed carry `paymentToken`; nothing here reads either.
 */
export type PlacedData = { orderId: string; userId: string; items: OrderLine[]; totalCents: number } & ({ paymentTokenSealed: string } | { paymentToken: string });

export interface OrderState {
  id: string;
  userId: string;
  status: OrderStatus;
  items: OrderLine[];
  totalCents: number;
  reason?: CancelReason;
  version: number;
}

export function evolve(state: OrderState | undefined, event: OrderEvent): OrderState {
  switch (event.type) {
    case 'orders.placed':
      return { id: event.data.orderId, userId: event.data.userId, status: 'PENDING', items: event.data.items, totalCents: event.data.totalCents, version: 1 };
    case 'orders.confirmed':
      if (!state) throw new Error('confirmed before placed');
      return { ...state, status: 'CONFIRMED', version: state.version + 1 };
    case 'orders.cancelled':
      if (!state) throw new Error('cancelled before placed');
      return { ...state, status: 'CANCELLED', reason: event.data.reason, version: state.version + 1 };
  }
}

export function replay(events: readonly OrderEvent[]): OrderState | undefined {
  return events.reduce<OrderState | undefined>(evolve, undefined);
}

export interface PricedProduct {
  id: string;
  name: string;
  priceCents: number;
}

export type PlaceError = { error: 'UNKNOWN_PRODUCT'; productId: string } | { error: 'TOTAL_TOO_LARGE' };

/** Largest order total accepted, in cents (one million dollars): keeps sums far from float precision. */
export const MAX_TOTAL_CENTS = 100_000_000;

/** Prices the requested lines with the catalog's current prices. */
export function priceLines(
  requested: readonly { productId: string; quantity: number }[],
  catalog: ReadonlyMap<string, PricedProduct>,
): { items: OrderLine[]; totalCents: number } | PlaceError {
  const items: OrderLine[] = [];
  for (const { productId, quantity } of requested) {
    const product = catalog.get(productId);
    if (!product) return { error: 'UNKNOWN_PRODUCT', productId };
    items.push({ productId, name: product.name, quantity, unitPriceCents: product.priceCents });
  }
  const totalCents = items.reduce((sum, line) => sum + line.quantity * line.unitPriceCents, 0);
  if (totalCents > MAX_TOTAL_CENTS) return { error: 'TOTAL_TOO_LARGE' };
  return { items, totalCents };
}

export function place(command: { orderId: string; userId: string; items: OrderLine[]; totalCents: number; paymentTokenSealed: string }): OrderEvent[] {
  return [{ type: 'orders.placed', data: command }];
}

/** Payment succeeded: confirm a pending order; anything else is already decided. */
export function confirm(state: OrderState): OrderEvent[] {
  if (state.status !== 'PENDING') return [];
  return [{ type: 'orders.confirmed', data: { orderId: state.id, userId: state.userId, totalCents: state.totalCents } }];
}

/** Out of stock, declined or timed out: cancel a pending order; anything else is already decided. */
export function cancel(state: OrderState, reason: CancelReason): OrderEvent[] {
  if (state.status !== 'PENDING') return [];
  return [{ type: 'orders.cancelled', data: { orderId: state.id, userId: state.userId, reason } }];
}
