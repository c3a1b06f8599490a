import type { CancelReason } from '@tracemart/contracts';

/** What a user is told about their order; wording lives here, apart from delivery. */
export type NotificationKind = 'order-confirmed' | 'order-cancelled';

const reasonText: Record<CancelReason, string> = {
  OUT_OF_STOCK: 'an item is out of stock',
  PAYMENT_DECLINED: 'the payment was declined',
  SAGA_TIMEOUT: 'it could not be completed in time',
};

export function confirmationMessage(orderId: string, totalCents: number): { kind: NotificationKind; subject: string; body: string } {
  const total = (totalCents / 100).toFixed(2);
  return { kind: 'order-confirmed', subject: `Order ${orderId.slice(0, 8)} confirmed`, body: `Your order is confirmed. Total charged: $${total}.` };
}

export function cancellationMessage(orderId: string, reason: CancelReason): { kind: NotificationKind; subject: string; body: string } {
  return { kind: 'order-cancelled', subject: `Order ${orderId.slice(0, 8)} cancelled`, body: `Your order was cancelled because ${reasonText[reason]}. You have not been charged.` };
}
