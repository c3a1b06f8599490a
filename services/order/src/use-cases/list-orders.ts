import type { OrderDeps } from '../dependencies';
import type { OrderSummaryView } from '../projections/order-summary';

/** The caller's latest orders, from the CQRS read model: eventually consistent, usually within milliseconds. */
export function listOrders({ summaries }: OrderDeps, userId: string): Promise<OrderSummaryView[]> {
  return summaries.listFor(userId);
}
