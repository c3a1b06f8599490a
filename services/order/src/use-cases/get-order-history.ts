import { AppError } from '@tracemart/platform';
import { replay } from '../domain/order';
import type { OrderDeps } from '../dependencies';

/** An order's events, oldest first, with the trace that wrote each; only its owner may see them (others get 404). */
export async function getOrderHistory({ orders }: OrderDeps, query: { userId: string; orderId: string }) {
  const history = await orders.load(query.orderId);
  const state = replay(history);
  if (!state || state.userId !== query.userId) throw new AppError('not_found', 'ORDER.NOT_FOUND', `no order ${query.orderId}`);
  return history.map((event) => ({ type: event.type, version: event.version, occurredAt: event.occurredAt.toISOString(), traceId: event.traceId ?? null }));
}
