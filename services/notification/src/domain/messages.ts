import type { CancelReason } from '@tracemart/contracts';

/** What a user is told about their order; wording lives here, apart from delivery. */
export type NotificationKind = 'order-confirmed' | 'order-cancelled';

export interface Message {
  kind: NotificationKind;
  subject: string;
  body: string;
}

/** The order outcomes a customer hears about (the parts of their events the wording needs). */
export type OrderOutcome =
  { type: 'orders.confirmed'; data: { orderId: string; totalCents: number } } | { type: 'orders.cancelled'; data: { orderId: string; reason: CancelReason } };

const reasonText: Record<CancelReason, string> = {
  OUT_OF_STOCK: 'an item is out of stock',
  PAYMENT_DECLINED: 'the payment was declined',
  SAGA_TIMEOUT: 'it could not be completed in time',
};

export function confirmationMessage(orderId: string, totalCents: number): Message {
  const total = (totalCents / 100).toFixed(2);
  return { kind: 'order-confirmed', subject: `Order ${orderId.slice(0, 8)} confirmed`, body: `Your order is confirmed. Total charged: $${total}.` };
}

export function cancellationMessage(orderId: string, reason: CancelReason): Message {
  return { kind: 'order-cancelled', subject: `Order ${orderId.slice(0, 8)} cancelled`, body: `Your order was cancelled because ${reasonText[reason]}. You have not been charged.` };
}

/** The message an order outcome sends. */
export function messageFor(outcome: OrderOutcome): Message {
  return outcome.type === 'orders.confirmed' ? confirmationMessage(outcome.data.orderId, outcome.data.totalCents) : cancellationMessage(outcome.data.orderId, outcome.data.reason);
}

/** One notification of a kind per order, however often its event arrives: this is its id. */
export function notificationId(orderId: string, kind: NotificationKind): string {
  return `${orderId}:${kind}`;
}

/** Sent notifications from before this instant have outlived the inbox's retention. */
export function retentionCutoff(now: Date, retentionDays: number): Date {
  return new Date(now.getTime() - retentionDays * 24 * 3600_000);
}
