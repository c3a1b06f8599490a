import { getMeter, KeyedLock, newEnvelope, type EventEnvelope, type HandlerResult, type Logger, type OutboxRelay } from '@tracemart/platform';
import { isEvent, type EventData, type EventType } from '@tracemart/contracts';
import type { StockStore } from '../data/stock';
import { mergeLines, onOrderCancelled, onOrderConfirmed, type ReservationStatus } from '../domain/reservation';

/** Reservation outcomes: reserved, rejected (out of stock), released (compensation), committed. */
const reservations = getMeter().createCounter('tracemart.inventory.reservations', { unit: '{reservation}', description: 'Reservation outcomes' });

export function inventoryHandlers(deps: { store: StockStore; relay: OutboxRelay; logger: Logger }) {
  const { store, relay, logger } = deps;
  const event = <T extends EventType>(source: EventEnvelope, type: T, data: EventData<T>) =>
    newEnvelope(type, data, { source: 'inventory', correlationId: source.correlationId });

  /** Moves the reservation from `from` to `to` and stores the event in the same write. */
  const transition = (orderId: string, from: ReservationStatus, to: ReservationStatus, events: EventEnvelope[]) =>
    relay.write(store.reservations, { _id: orderId, status: from }, { $set: { status: to, updatedAt: new Date() } }, events);

  async function reserve(msg: EventEnvelope<EventData<'orders.placed'>>): Promise<void> {
    const { orderId } = msg.data;
    const lines = mergeLines(msg.data.items);
    const reservation = await store.open(orderId, lines, 'PENDING');
    if (reservation.status !== 'PENDING') return; // already decided (redelivery) or cancelled first
    for (const line of lines) {
      if ((reservation.held ?? []).includes(line.productId)) continue;
      if (await store.take(orderId, line)) continue;
      for (const held of lines) await store.giveBack(orderId, held);
      await transition(orderId, 'PENDING', 'REJECTED', [event(msg, 'inventory.rejected', { orderId, reason: 'OUT_OF_STOCK', productId: line.productId })]);
      reservations.add(1, { outcome: 'rejected' });
      logger.info({ orderId, productId: line.productId }, 'reservation rejected: out of stock');
      return;
    }
    await transition(orderId, 'PENDING', 'RESERVED', [event(msg, 'inventory.reserved', { orderId, items: lines })]);
    reservations.add(1, { outcome: 'reserved' });
    logger.info({ orderId }, 'stock reserved');
  }

  async function release(msg: EventEnvelope<EventData<'orders.cancelled'>>): Promise<void> {
    const { orderId } = msg.data;
    const current = await store.getReservation(orderId);
    switch (onOrderCancelled(current?.status)) {
      case 'release':
        if (!current) return;
        for (const line of current.lines) await store.giveBack(orderId, line);
        if (await transition(orderId, 'RESERVED', 'RELEASED', [event(msg, 'inventory.released', { orderId })])) {
          reservations.add(1, { outcome: 'released' });
          logger.info({ orderId, reason: msg.data.reason }, 'reservation released (compensation)');
        }
        return;
      case 'mark-cancelled':
        // Cancelled before stock was reserved: a late orders.placed must then reserve nothing.
        await store.open(orderId, [], 'CANCELLED');
        return;
      case 'nothing':
        return;
    }
  }

  async function commit(msg: EventEnvelope<EventData<'orders.confirmed'>>): Promise<void> {
    const { orderId } = msg.data;
    const current = await store.getReservation(orderId);
    if (!current || onOrderConfirmed(current.status) === 'nothing') return;
    if (!(await transition(orderId, 'RESERVED', 'COMMITTED', [event(msg, 'inventory.committed', { orderId })]))) return;
    for (const line of current.lines) await store.commit(line);
    reservations.add(1, { outcome: 'committed' });
  }

  // Decisions about one order run one at a time (copies of an event under new ids, or a cancellation
  // racing its placement, must not both act on the same reservation).
  const perOrder = new KeyedLock();
  return async (msg: EventEnvelope): Promise<HandlerResult> => {
    const orderId = (msg.data as { orderId?: string }).orderId ?? '';
    await perOrder.run(orderId, async () => {
      if (isEvent(msg, 'orders.placed')) await reserve(msg);
      else if (isEvent(msg, 'orders.cancelled')) await release(msg);
      else if (isEvent(msg, 'orders.confirmed')) await commit(msg);
    });
    return 'ack';
  };
}
