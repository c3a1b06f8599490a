import { getMeter, KeyedLock, newEnvelope, type EventEnvelope, type HandlerResult, type Logger, type OutboxRelay } from '@tracemart/platform';
import { isEvent, type EventData, type EventType } from '@tracemart/contracts';
import type { ReservationDocument, StockStore } from '../data/stock';
import { mergeLines, onOrderCancelled, onOrderConfirmed, type Line, type ReservationStatus } from '../domain/reservation';

/** Reservation outcomes: reserved, rejected (out of stock), released (compensation), committed. */
const reservations = getMeter().createCounter('tracemart.inventory.reservations', { unit: '{reservation}', description: 'Reservation outcomes' });

export function inventoryHandlers(deps: { store: StockStore; relay: OutboxRelay; logger: Logger }) {
  const { store, relay, logger } = deps;
  const event = <T extends EventType>(source: EventEnvelope, type: T, data: EventData<T>) => newEnvelope(type, data, { source: 'inventory', correlationId: source.correlationId });

  /** Moves the reservation from `from` to `to` and stores the event in the same write. */
  const transition = (orderId: string, from: ReservationStatus, to: ReservationStatus, events: EventEnvelope[]) =>
    relay.write(store.reservations, { _id: orderId, status: from }, { $set: { status: to, updatedAt: new Date() } }, events);

  /** Inserts the reservation's decision with its event; when another decision was there first, undoes the take. */
  async function decide(orderId: string, status: ReservationStatus, lines: Line[], decided: EventEnvelope): Promise<boolean> {
    const existing = await store.decide(orderId, status, lines, [decided]);
    if (!existing) {
      await relay.publishStored(store.reservations, orderId, [decided]);
      return true;
    }
    // Cancelled first, or a redelivery after the reservation moved on: the units just taken are not this one's to keep.
    if (existing.status !== 'RESERVED') await store.giveBack(orderId, lines);
    return false;
  }

  /** In the usual case one update per line takes the units and one insert records the decision with its event. */
  async function reserve(msg: EventEnvelope<EventData<'orders.placed'>>): Promise<void> {
    const { orderId } = msg.data;
    const lines = mergeLines(msg.data.items);
    const taken = await store.take(orderId, lines);
    if (!taken.taken) {
      const rejected = event(msg, 'inventory.rejected', { orderId, reason: 'OUT_OF_STOCK', productId: taken.short.productId });
      if (await decide(orderId, 'REJECTED', lines, rejected)) {
        reservations.add(1, { outcome: 'rejected' });
        logger.info({ orderId, productId: taken.short.productId }, 'reservation rejected: out of stock');
      }
      return;
    }
    if (await decide(orderId, 'RESERVED', lines, event(msg, 'inventory.reserved', { orderId, items: lines }))) {
      reservations.add(1, { outcome: 'reserved' });
      logger.info({ orderId }, 'stock reserved');
    }
  }

  async function release(msg: EventEnvelope<EventData<'orders.cancelled'>>): Promise<void> {
    const { orderId } = msg.data;
    const current = await store.getReservation(orderId);
    switch (onOrderCancelled(current?.status)) {
      case 'release':
        if (!current) return;
        // Units first (guarded by `holds`, so a redelivery gives nothing back twice), then the state.
        await store.giveBack(orderId, current.lines);
        if (await transition(orderId, 'RESERVED', 'RELEASED', [event(msg, 'inventory.released', { orderId })])) {
          reservations.add(1, { outcome: 'released' });
          logger.info({ orderId, reason: msg.data.reason }, 'reservation released (compensation)');
        }
        return;
      case 'mark-cancelled': {
        // Cancelled before stock was reserved: a late orders.placed must then keep nothing.
        const existing: ReservationDocument | undefined = await store.decide(orderId, 'CANCELLED', [], []);
        if (existing?.status === 'RESERVED') await release(msg); // reserved in between (another instance)
        return;
      }
      case 'nothing':
        return;
    }
  }

  async function commit(msg: EventEnvelope<EventData<'orders.confirmed'>>): Promise<void> {
    const { orderId } = msg.data;
    const current = await store.getReservation(orderId);
    if (!current || onOrderConfirmed(current.status) === 'nothing') return;
    // Units first (guarded by `holds`), then the state: a crash in between is finished by the redelivery.
    await store.commit(orderId, current.lines);
    if (await transition(orderId, 'RESERVED', 'COMMITTED', [event(msg, 'inventory.committed', { orderId })])) reservations.add(1, { outcome: 'committed' });
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
