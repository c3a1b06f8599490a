import type { TypedEvent } from '@tracemart/contracts';
import { cancel } from '../domain/order';
import type { OrderDeps } from '../dependencies';
import { settleOrder } from './settle-order';

/** payments.declined: the card was declined, so a pending order is cancelled with PAYMENT_DECLINED. */
export async function cancelDeclinedOrder(deps: OrderDeps, event: TypedEvent<'payments.declined'>): Promise<void> {
  await settleOrder(deps, event.data.orderId, (state) => cancel(state, 'PAYMENT_DECLINED'));
}
