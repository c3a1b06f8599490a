import { AppError } from '@tracemart/platform';
import { replay } from '../domain/order';
import type { OrderDeps } from '../dependencies';
import { toView, type OrderView } from './order-view';

/** The order as it is, or as it was at `asOf` (its events up to then, replayed); only its owner may see it (others get 404). */
export async function getOrder({ orders }: OrderDeps, query: { userId: string; orderId: string; asOf?: Date | undefined }): Promise<OrderView> {
  const history = await orders.load(query.orderId, query.asOf);
  const state = replay(history);
  if (!state || state.userId !== query.userId) throw new AppError('not_found', 'ORDER.NOT_FOUND', `no order ${query.orderId}`);
  return toView(state, history);
}
