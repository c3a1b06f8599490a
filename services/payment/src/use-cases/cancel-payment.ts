import type { TypedEvent } from '@tracemart/contracts';
import type { PaymentDeps } from '../dependencies';

/** inventory.rejected: the order will never reach payment, so a payment waiting for stock is closed. */
export async function cancelPayment({ payments }: PaymentDeps, event: TypedEvent<'inventory.rejected'>): Promise<void> {
  await payments.transition(event.data.orderId, 'AWAITING_STOCK', 'CANCELLED', []);
}
