import type { Db, EventBus, EventEnvelope } from '@tracemart/platform';
import { createOrderProjector } from '@tracemart/order-service/projections';

/**
 * Replays every message of `streams` from the start into a freshly dropped `into` collection.
 * Reads each stream with an ordered consumer until it has delivered everything that was there at the start.
 */
export async function rebuildOrderSummaries(options: { bus: EventBus; db: Db; into: string; streams: string[]; decode: (e: EventEnvelope) => EventEnvelope }): Promise<number> {
  const { bus, db, into } = options;
  await db
    .collection(into)
    .drop()
    .catch(() => false);
  const projector = createOrderProjector(db, into);
  let applied = 0;
  for (const stream of options.streams) {
    const info = await bus.jsm.streams.info(stream);
    const last = info.state.last_seq;
    if (info.state.messages === 0) continue;
    const consumer = await bus.js.consumers.get(stream, { opt_start_seq: info.state.first_seq });
    const messages = await consumer.consume();
    for await (const msg of messages) {
      try {
        await projector.apply(options.decode(msg.json<EventEnvelope>()));
        applied += 1;
      } catch {
        // An event that fails its contract was dead-lettered live too; the read model skips it the same way.
      }
      if (msg.seq >= last) break;
    }
    await messages.close();
  }
  return applied;
}
