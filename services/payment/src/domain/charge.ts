/** The simulated card processor's rules: which test tokens succeed and which are declined. */
export type ChargeOutcome = { outcome: 'charged' } | { outcome: 'declined'; reason: string };

export function decideCharge(token: string): ChargeOutcome {
  switch (token) {
    case 'tok_visa':
      return { outcome: 'charged' };
    case 'tok_chargeDeclined':
      return { outcome: 'declined', reason: 'card declined' };
    default:
      return { outcome: 'declined', reason: 'unknown payment token' };
  }
}

/**
 * A card token that does not open (sealed under another PAYMENT_TOKEN_KEY, for another order, or altered) can never
 * be charged: the payment is declined at once rather than retried until the saga times out.
 */
export const UNREADABLE_TOKEN: ChargeOutcome = { outcome: 'declined', reason: 'payment token unreadable' };
