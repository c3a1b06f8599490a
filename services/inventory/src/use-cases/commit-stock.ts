import { newEnvelope } from '@tracemart/platform';
import type { TypedEvent } from '@tracemart/contracts';
import { onOrderConfirmed } from '../domain/reservation';
import type { InventoryDeps } from '../dependencies';
import { reservationOutcomes } from './metrics';

/** orders.confirmed: the reserved units leave stock for good. */
export function commitStock(deps: InventoryDeps, event: TypedEvent<'orders.confirmed'>): Promise<void> {
  return deps.perOrder.run(event.data.orderId, () => commitOnce(deps, event));
}

async function commitOnce({ stock }: InventoryDeps, event: TypedEvent<'orders.confirmed'>): Promise<void> {
  const { orderId } = event.data;
  const current = await stock.reservation(orderId);
  if (!current || onOrderConfirmed(current.status) === 'nothing') return;
  // Units first (an order's hold ends once in the ledger), then the state: a crash in between is finished by the redelivery.
  await stock.commit(orderId, current.lines);
  const committed = newEnvelope('inventory.committed', { orderId }, { source: 'inventory', correlationId: event.correlationId });
  if (await stock.transition(orderId, 'RESERVED', 'COMMITTED', [committed])) reservationOutcomes.add(1, { outcome: 'committed' });
}
