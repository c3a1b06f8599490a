import type { OrderDeps } from '../dependencies';

/** Orders still PENDING `timeoutMs` after they were placed: the saga sweeper times them out. */
export function findStalledOrders({ orders }: OrderDeps, timeoutMs: number, limit = 100): Promise<string[]> {
  return orders.unsettledBefore(new Date(Date.now() - timeoutMs), limit);
}
