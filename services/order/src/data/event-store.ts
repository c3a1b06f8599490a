import { BackgroundWrites, isDuplicateKeyError, newEnvelope, type Db, type EventEnvelope, type Logger, type OutboxRelay, type OutboxSource } from '@tracemart/platform';
import type { OrderEvent } from '../domain/order';

/**
 * The order event store: one document per event, unique on (streamId, version) for optimistic
 * concurrency. It is also the outbox: events are appended with `published: false` and the relay marks
 * them published, so an event exists on the bus if and only if it was stored. Marking published and settled are
 * bookkeeping that nobody waits for: written in the background (BackgroundWrites) and redone by the sweeps if lost.
 */
interface OrderEventDocument {
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

/** One stored event of an order, as the use cases see it: the domain event and where it stands. */
export type StoredEvent = OrderEvent & {
  id: string;
  streamId: string;
  version: number;
  occurredAt: Date;
  envelope: EventEnvelope;
  traceId?: string;
  /** Marked published (a mark written in the background may still be on its way). */
  published: boolean;
  requestHash?: string;
};

const toStored = ({ _id, streamId, version, type, data, occurredAt, envelope, traceId, published, requestHash }: OrderEventDocument): StoredEvent =>
  ({
    id: _id,
    streamId,
    version,
    type,
    data,
    occurredAt,
    envelope,
    published,
    ...(traceId ? { traceId } : {}),
    ...(requestHash ? { requestHash } : {}),
  }) as StoredEvent;

export class ConcurrencyError extends Error {
  override name = 'ConcurrencyError';
}

export async function createOrderEventStore(db: Db, logger: Logger, outbox: (sources: OutboxSource[]) => OutboxRelay) {
  const events = db.collection<OrderEventDocument>('order_events');
  await events.createIndex({ streamId: 1, version: 1 }, { unique: true });
  await events.createIndex({ published: 1 });
  await events.createIndex({ unsettled: 1 });
  const bookkeeping = new BackgroundWrites(events, logger);
  const markPublished = async (id: string): Promise<void> => bookkeeping.add({ _id: id }, { $set: { published: true } });
  const relay = outbox([
    {
      name: 'order_events',
      async *pending(limit) {
        const docs = events.find({ published: false }).sort({ occurredAt: 1 }).limit(limit);
        for await (const doc of docs) {
          yield { event: doc.envelope, markPublished: () => markPublished(doc._id) };
        }
      },
    },
  ]);

  /**
   * Appends after `expectedVersion` and publishes; throws ConcurrencyError if another writer got there first. An
   * event published here is not marked published yet: the order's one bookkeeping write, when it settles, marks all
   * of its events at once (`settle`). Until then the relay's sweep, which finds it unmarked, knows it published it
   * (`wasPublished`) and leaves it alone; after a restart it republishes it, and JetStream's duplicate window drops
   * the copy.
   */
  async function append(
    streamId: string,
    expectedVersion: number,
    domainEvents: OrderEvent[],
    correlationId: string,
    extra: { requestHash?: string } = {},
  ): Promise<StoredEvent[]> {
    const now = new Date();
    const docs: OrderEventDocument[] = domainEvents.map((event, index) => {
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
    // A failed publish is the sweep's to retry (it marks the event once it is on the bus).
    await relay.publishNow(docs.map((doc) => ({ event: doc.envelope, markPublished: async () => undefined })));
    return docs.map(toStored);
  }

  return {
    relay,
    async load(streamId: string, asOf?: Date): Promise<StoredEvent[]> {
      const filter = asOf ? { streamId, occurredAt: { $lte: asOf } } : { streamId };
      return (await events.find(filter).sort({ version: 1 }).toArray()).map(toStored);
    },
    append,
    /**
     * Appends what settled an order (nothing when it was already terminal), then marks the order
     * settled, so the saga sweeper stops looking at it, in the background. When every event of the stream (`history`
     * and the appended) is known to be on the bus, the same single statement also marks them all published: one write per order for all of
     * its bookkeeping. Also when nothing was appended: a mark lost in a crash is made again when the sweeper retries.
     */
    async settle(streamId: string, expectedVersion: number, domainEvents: OrderEvent[], correlationId: string, history: readonly StoredEvent[]): Promise<StoredEvent[]> {
      const stored = await append(streamId, expectedVersion, domainEvents, correlationId);
      const allPublished = [...history, ...stored].every((event) => event.published || relay.wasPublished(event.id));
      if (allPublished) bookkeeping.add({ streamId }, { $set: { published: true }, $unset: { unsettled: '' } }, { many: true });
      else bookkeeping.add({ streamId, version: 1 }, { $unset: { unsettled: '' } });
      return stored;
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
  };
}
export type OrderEventStore = Awaited<ReturnType<typeof createOrderEventStore>>;
