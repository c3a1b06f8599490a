import { refundDue, type LedgerState } from './ledger';

/**
 * Payment state per order: AWAITING_STOCK until inventory reserved the items (or rejected them),
 * then CHARGED or DECLINED; CANCELLED when the order never reached payment; REFUNDED after compensation.
 */
export type PaymentStatus = 'AWAITING_STOCK' | 'CHARGED' | 'DECLINED' | 'CANCELLED' | 'REFUNDED';

/**
 * What stock being reserved means for a payment: charge it once, when it is waiting for stock. With no payment yet,
 * orders.placed (on another consumer) has not been applied: wait for it.
 */
export function chargeStep(payment: { status: PaymentStatus } | null): 'wait' | 'charge' | 'done' {
  if (!payment) return 'wait';
  return payment.status === 'AWAITING_STOCK' ? 'charge' : 'done';
}

/**
 * Compensation for a cancelled order (e.g. the saga timed out after the card was charged): refund what the ledger
 * says was taken and not given back; a payment still waiting for stock is simply closed. A cancellation can also come
 * before the payment was opened: the order's outbox may relay orders.cancelled before an orders.placed whose first
 * publish failed (seen when the JetStream cluster lost its quorum), so the payment is then recorded as closed from the
 * start ('close-unopened') and the late orders.placed and inventory.reserved find it closed and charge nothing.
 */
export type Compensation = { kind: 'none' } | { kind: 'close' } | { kind: 'close-unopened' } | { kind: 'refund'; amountCents: number };

export function compensationFor(payment: { status: PaymentStatus } | null, ledger: LedgerState): Compensation {
  if (!payment) return { kind: 'close-unopened' };
  if (payment.status === 'AWAITING_STOCK') return { kind: 'close' };
  const owed = refundDue(ledger);
  return payment.status === 'CHARGED' && owed > 0 ? { kind: 'refund', amountCents: owed } : { kind: 'none' };
}
