/**
 * Inventory's decisions, free of I/O. A reservation holds stock for one order:
 *   PENDING -> RESERVED | REJECTED, RESERVED -> COMMITTED | RELEASED,
 *   and CANCELLED when the order was cancelled before stock was reserved.
 */
export type ReservationStatus = 'PENDING' | 'RESERVED' | 'REJECTED' | 'COMMITTED' | 'RELEASED' | 'CANCELLED';

export interface Line {
  productId: string;
  quantity: number;
}

/** One line per product, quantities added, in a stable order (so concurrent orders lock-step the same way). */
export function mergeLines(lines: readonly Line[]): Line[] {
  const totals = new Map<string, number>();
  for (const { productId, quantity } of lines) totals.set(productId, (totals.get(productId) ?? 0) + quantity);
  return [...totals.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([productId, quantity]) => ({ productId, quantity }));
}

export type CancelDecision = 'release' | 'mark-cancelled' | 'nothing';

/** What an order cancellation means for a reservation in `status` (undefined: none yet). */
export function onOrderCancelled(status: ReservationStatus | undefined): CancelDecision {
  switch (status) {
    case 'RESERVED':
      return 'release';
    case undefined:
    case 'PENDING':
      return 'mark-cancelled';
    default:
      return 'nothing';
  }
}

/** Whether an order confirmation commits the reservation (only a RESERVED one). */
export function onOrderConfirmed(status: ReservationStatus | undefined): 'commit' | 'nothing' {
  return status === 'RESERVED' ? 'commit' : 'nothing';
}

/**
 * Whether the units an orders.placed delivery took (or found held) for the order may stay held, given the order's
 * decision: this delivery's, or the one recorded first by another. Only a RESERVED order keeps units; after any other
 * decision (rejected, cancelled first, or moved on since) they are not the order's to keep.
 */
export function keepsTakenUnits(decision: ReservationStatus): boolean {
  return decision === 'RESERVED';
}
