import { BackgroundWrites, isDuplicateKeyError, newEnvelope, type Db, type EventEnvelope, type Logger, type OutboxSource } from '@tracemart/platform';
import type { OrderEvent } from '../domain/order';

/**
 * The order event store: one document per event, unique on (streamId, version) for optimistic
 * concurrency. It is also the outbox: events are appended with `published: false` and the relay marks
 * them published, so an event exists on the bus if and only if it was stored. Marking published and settled are
 * bookkeeping that nobody waits for: written in the background (BackgroundWrites) and redone by the sweeps if lost.
 */
export interface StoredEvent {
  _id: string; // event id
  streamId: string;
  version: number;
  type: OrderEvent['type'];
  data: OrderEvent['data'];
  occurredAt: Date;
  envelope: EventEnvelope;
  traceId?: string;
  published: boolean;
  /**
   * On the orders.placed event only, removed once the order reached a terminal state: the saga sweeper looks up
   * `{ unsettled: true }` (an index lookup), so what it reads is bounded by the orders in flight, not by history.
   */
  unsettled?: true;
  /** On the orders.placed event of an order placed with an Idempotency-Key: the request's canonical hash. */
  requestHash?: string;
}

export class ConcurrencyError extends Error {
  override name = 'ConcurrencyError';
}

export async function createOrderEventStore(db: Db, logger: Logger) {
  const events = db.collection<StoredEvent>('order_events');
  await events.createIndex({ streamId: 1, version: 1 }, { unique: true });
  await events.createIndex({ published: 1 });
  await events.createIndex({ unsettled: 1 });
  const bookkeeping = new BackgroundWrites(events, logger);

  const toDomain = (doc: StoredEvent): OrderEvent => ({ type: doc.type, data: doc.data }) as OrderEvent;

  return {
    collection: events,
    async load(streamId: string, asOf?: Date): Promise<StoredEvent[]> {
      const filter = asOf ? { streamId, occurredAt: { $lte: asOf } } : { streamId };
      return events.find(filter).sort({ version: 1 }).toArray();
    },
    toDomain,
    /** Appends after `expectedVersion`; throws ConcurrencyError if another writer got there first. */
    async append(streamId: string, expectedVersion: number, domainEvents: OrderEvent[], correlationId: string, extra: { requestHash?: string } = {}): Promise<StoredEvent[]> {
      const now = new Date();
      const docs: StoredEvent[] = domainEvents.map((event, index) => {
        const envelope = newEnvelope(event.type, event.data, { source: 'order', correlationId, now });
        const traceparent = envelope.trace?.traceparent;
        return {
          _id: envelope.id,
          streamId,
          version: expectedVersion + index + 1,
          type: event.type,
          data: event.data,
          occurredAt: now,
          envelope,
          ...(traceparent ? { traceId: traceparent.split('-')[1] } : {}),
          published: false,
          ...(event.type === 'orders.placed' ? { unsettled: true as const, ...extra } : {}),
        };
      });
      if (docs.length === 0) return [];
      try {
        await events.insertMany(docs, { ordered: true });
      } catch (err) {
        if (isDuplicateKeyError(err)) throw new ConcurrencyError(`stream ${streamId} moved past version ${expectedVersion}`);
        throw err;
      }
      return docs;
    },
    /**
     * Marks an order settled (terminal), so the saga sweeper stops looking at it, in the background. With
     * `allPublished` (every event of the stream is known to be on the bus) the same single statement also marks them
     * all published: one write per order for all of its bookkeeping.
     */
    markSettled(streamId: string, allPublished: boolean): void {
      if (allPublished) bookkeeping.add({ streamId }, { $set: { published: true }, $unset: { unsettled: '' } }, { many: true });
      else bookkeeping.add({ streamId, version: 1 }, { $unset: { unsettled: '' } });
    },
    /** Orders placed before `cutoff` that have not reached a terminal state. */
    async unsettledBefore(cutoff: Date, limit: number): Promise<string[]> {
      const docs = await events
        .find({ unsettled: true, occurredAt: { $lt: cutoff } }, { projection: { streamId: 1 } })
        .limit(limit)
        .toArray();
      return docs.map((doc) => doc.streamId);
    },
    /** Waits for the background bookkeeping (at shutdown, and in tests). */
    flush: () => bookkeeping.flush(),
    outboxSource(): OutboxSource {
      return {
        name: 'order_events',
        async *pending(limit) {
          const docs = events.find({ published: false }).sort({ occurredAt: 1 }).limit(limit);
          for await (const doc of docs) {
            yield { event: doc.envelope, markPublished: () => markPublished(doc._id) };
          }
        },
      };
    },
    markPublished,
  };

  async function markPublished(id: string): Promise<void> {
    bookkeeping.add({ _id: id }, { $set: { published: true } });
  }
}
export type OrderEventStore = Awaited<ReturnType<typeof createOrderEventStore>>;
