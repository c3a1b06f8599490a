import { getMeter, isDuplicateKeyError, KeyedLock, type Collection, type Db, type EventEnvelope, type UpdateFilter } from '@tracemart/platform';
import { orderIdOf, summaryChanges, summaryUpdate, summaryView, type OrderSummary } from './order-summary';

export { summaryStreams } from './order-summary';
export const ORDER_SUMMARIES = 'order_summaries';

/** Seconds between an event happening and the read model reflecting it (last applied event). */
const projectionLag = getMeter().createGauge('tracemart.projection.lag', { unit: 's', description: 'Projection lag: now minus the applied event time' });

export function createOrderProjector(db: Db, collectionName = ORDER_SUMMARIES) {
  const perOrder = new KeyedLock();
  const summaries: Collection<OrderSummary> = db.collection<OrderSummary>(collectionName);

  async function apply(event: EventEnvelope): Promise<void> {
    const orderId = orderIdOf(event);
    const update = orderId ? summaryUpdate(event) : undefined;
    if (!orderId || !update) return;
    const changes = summaryChanges(event, update) as unknown as UpdateFilter<OrderSummary>;
    // One update at a time per order: the four stream consumers deliver events of one order concurrently,
    // and FerretDB v1 does not apply concurrent updates of one document atomically.
    await perOrder.run(orderId, async () => {
      const filter = { _id: orderId, appliedEvents: { $ne: event.id } };
      try {
        await summaries.updateOne(filter, changes, { upsert: true });
      } catch (err) {
        if (!isDuplicateKeyError(err)) throw err;
        // The document exists (created by another event): apply without upsert; if this event is already
        // applied the filter matches nothing and nothing changes.
        await summaries.updateOne(filter, changes);
      }
    });
    projectionLag.record(Math.max(0, (Date.now() - new Date(event.occurredAt).getTime()) / 1000), { projection: collectionName });
  }

  return {
    /** "My orders" looks summaries up by user: an index lookup (on FerretDB through its PostgreSQL twin). */
    async createIndexes(): Promise<void> {
      await summaries.createIndex({ userId: 1 });
    },
    apply,
    async listFor(userId: string) {
      const docs = await summaries.find({ userId }).sort({ createdAt: -1 }).limit(100).toArray();
      return docs.map(summaryView);
    },
    async get(orderId: string) {
      const doc = await summaries.findOne({ _id: orderId });
      return doc ? summaryView(doc) : undefined;
    },
    async all() {
      const docs = await summaries.find({}).sort({ _id: 1 }).toArray();
      return docs.map(summaryView);
    },
  };
}
export type OrderProjector = ReturnType<typeof createOrderProjector>;
