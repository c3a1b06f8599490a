import { cancel } from '../domain/order';
import type { OrderDeps } from '../dependencies';
import { settleOrder } from './settle-order';

/**
 * The saga timeout (run by the sweeper's leader): a pending order whose saga did not finish in time is cancelled with
 * SAGA_TIMEOUT, and the usual compensation follows (inventory releases, payment refunds or never charges).
 */
export function timeOutOrder(deps: OrderDeps, orderId: string): Promise<void> {
  return settleOrder(deps, orderId, (state) => cancel(state, 'SAGA_TIMEOUT'));
}
