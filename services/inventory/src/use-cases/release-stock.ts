import { newEnvelope } from '@tracemart/platform';
import type { TypedEvent } from '@tracemart/contracts';
import { onOrderCancelled } from '../domain/reservation';
import type { InventoryDeps } from '../dependencies';
import { reservationOutcomes } from './metrics';

/** orders.cancelled: gives a reserved order's units back (compensation), or makes sure a late orders.placed keeps none. */
export function releaseStock(deps: InventoryDeps, event: TypedEvent<'orders.cancelled'>): Promise<void> {
  return deps.perOrder.run(event.data.orderId, () => releaseOnce(deps, event));
}

async function releaseOnce(deps: InventoryDeps, event: TypedEvent<'orders.cancelled'>): Promise<void> {
  const { stock, logger } = deps;
  const { orderId } = event.data;
  const current = await stock.reservation(orderId);
  switch (onOrderCancelled(current?.status)) {
    case 'release': {
      if (!current) return;
      // Units first (an order's hold ends once in the ledger, so a redelivery gives nothing back twice), then the state.
      await stock.giveBack(orderId, current.lines);
      const released = newEnvelope('inventory.released', { orderId }, { source: 'inventory', correlationId: event.correlationId });
      if (await stock.transition(orderId, 'RESERVED', 'RELEASED', [released])) {
        reservationOutcomes.add(1, { outcome: 'released' });
        logger.info({ orderId, reason: event.data.reason }, 'reservation released (compensation)');
      }
      return;
    }
    case 'mark-cancelled': {
      // Cancelled before stock was reserved: a late orders.placed must then keep nothing.
      const earlier = await stock.decide(orderId, 'CANCELLED', [], []);
      if (earlier?.status === 'RESERVED') await releaseOnce(deps, event); // reserved in between (another instance)
      return;
    }
    case 'nothing':
      return;
  }
}
