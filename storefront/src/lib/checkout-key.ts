/**
 * An Idempotency-Key per checkout attempt: the same key for every click of one attempt (a double click, a retry
 * after a timeout), so the order service places one order; a new key once the cart or the card changes, or
 * after an order was placed. Allowed characters: `[A-Za-z0-9_.:-]`, at most 200.
 */
export function newCheckoutKey(random: (bytes: Uint8Array) => Uint8Array = (b) => crypto.getRandomValues(b)): string {
  const bytes = random(new Uint8Array(16));
  return `checkout-${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')}`;
}

export const isValidKey = (key: string): boolean => /^[A-Za-z0-9_.:-]{1,200}$/.test(key);
