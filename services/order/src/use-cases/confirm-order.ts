import type { TypedEvent } from '@tracemart/contracts';
import { confirm } from '../domain/order';
import type { OrderDeps } from '../dependencies';
import { settleOrder } from './settle-order';

/** payments.charged: the order is paid, so a pending order is confirmed; a late or repeated charge decides nothing. */
export async function confirmOrder(deps: OrderDeps, event: TypedEvent<'payments.charged'>): Promise<void> {
  await settleOrder(deps, event.data.orderId, confirm);
}
