/**
 * One product's stock as running totals: units that can be ordered, units held for orders not yet confirmed, and
 * units gone for good. Every change keeps `available + reserved + sold` equal to the units the product was seeded
 * with, and none makes a total negative.
 */
export interface StockTotals {
  available: number;
  reserved: number;
  sold: number;
}

/**
 * `take`: an order holds units (available -> reserved); `give-back`: it lets them go (reserved -> available);
 * `commit`: they leave stock (reserved -> sold). `seed` is a product's first change, its initial stock.
 */
export type StockChangeKind = 'seed' | 'take' | 'give-back' | 'commit';

/**
 * The totals after a change of `quantity` units, or null when the change cannot apply to `head`: a take that asks
 * for more than is available, or a give-back or commit of more than is reserved (which only happens when that
 * order's units have been given back or committed already).
 */
export function nextStock(head: StockTotals, kind: Exclude<StockChangeKind, 'seed'>, quantity: number): StockTotals | null {
  if (!Number.isInteger(quantity) || quantity <= 0) throw new Error(`a stock change moves a positive whole number of units, not ${quantity}`);
  const { available, reserved, sold } = head;
  switch (kind) {
    case 'take':
      return available >= quantity ? { available: available - quantity, reserved: reserved + quantity, sold } : null;
    case 'give-back':
      return reserved >= quantity ? { available: available + quantity, reserved: reserved - quantity, sold } : null;
    case 'commit':
      return reserved >= quantity ? { available, reserved: reserved - quantity, sold: sold + quantity } : null;
  }
}

/** The totals a product starts with. */
export function seedStock(initial: number): StockTotals {
  if (!Number.isInteger(initial) || initial < 0) throw new Error(`initial stock must be a whole number of units, not ${initial}`);
  return { available: initial, reserved: 0, sold: 0 };
}
