import type { TypedEvent } from '@tracemart/contracts';
import { cancel } from '../domain/order';
import type { OrderDeps } from '../dependencies';
import { settleOrder } from './settle-order';

/** inventory.rejected: the items cannot be reserved, so a pending order is cancelled with OUT_OF_STOCK. */
export async function cancelOutOfStockOrder(deps: OrderDeps, event: TypedEvent<'inventory.rejected'>): Promise<void> {
  await settleOrder(deps, event.data.orderId, (state) => cancel(state, 'OUT_OF_STOCK'));
}
