import { newEnvelope } from '@tracemart/platform';
import type { TypedEvent } from '@tracemart/contracts';
import { keepsTakenUnits, mergeLines } from '../domain/reservation';
import type { InventoryDeps } from '../dependencies';
import { reservationOutcomes } from './metrics';

/**
 * orders.placed: takes the order's units and records the decision (reserved, or rejected when a line is short, whose
 * units then go back). In the usual case one ledger insert per line takes the units (and one update moves its
 * snapshot), and one insert records the decision with its event.
 */
export function reserveStock(deps: InventoryDeps, event: TypedEvent<'orders.placed'>): Promise<void> {
  return deps.perOrder.run(event.data.orderId, () => reserveOnce(deps, event));
}

async function reserveOnce({ stock, logger }: InventoryDeps, event: TypedEvent<'orders.placed'>): Promise<void> {
  const { orderId } = event.data;
  const lines = mergeLines(event.data.items);
  const taken = await stock.take(orderId, lines);
  const meta = { source: 'inventory', correlationId: event.correlationId };
  const status = taken.taken ? 'RESERVED' : 'REJECTED';
  const decided = taken.taken
    ? newEnvelope('inventory.reserved', { orderId, items: lines }, meta)
    : newEnvelope('inventory.rejected', { orderId, reason: 'OUT_OF_STOCK', productId: taken.short.productId }, meta);
  const earlier = await stock.decide(orderId, status, lines, [decided]);
  // Units go back only after the decision is recorded, by whoever finds it is not RESERVED: a second delivery of this
  // order in another instance may count them as held, and only the first decision (unique) says who is right.
  if (!keepsTakenUnits(earlier?.status ?? status)) await stock.giveBack(orderId, lines);
  if (earlier) return;
  if (taken.taken) {
    reservationOutcomes.add(1, { outcome: 'reserved' });
    logger.info({ orderId }, 'stock reserved');
  } else {
    reservationOutcomes.add(1, { outcome: 'rejected' });
    logger.info({ orderId, productId: taken.short.productId }, 'reservation rejected: out of stock');
  }
}
