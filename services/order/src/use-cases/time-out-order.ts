import { cancel } from '../domain/order';
import type { OrderDeps } from '../dependencies';
import { settleOrder } from './settle-order';

/**
 * The saga timeout (run by the sweeper's leader): a pending order whose saga did not finish in time is cancelled with
 * SAGA_TIMEOUT, and the usual compensation follows (inventory releases, payment refunds or never charges). Resolves to
 * whether this call cancelled it (not when the order had ended meanwhile).
 */
export async function timeOutOrder(deps: OrderDeps, orderId: string): Promise<boolean> {
  return (await settleOrder(deps, orderId, (state) => cancel(state, 'SAGA_TIMEOUT'))).length > 0;
}
