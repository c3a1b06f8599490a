import { getMeter, isDuplicateKeyError, KeyedLock, type Collection, type Db, type EventEnvelope, type UpdateFilter } from '@tracemart/platform';
import { orderIdOf, summaryUpdate, summaryView, type OrderSummary } from './order-summary';

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
    const at = new Date(event.occurredAt);
    const changes = {
      ...(Object.keys(update.set).length > 0 ? { $set: update.set } : {}),
      $push: { timeline: { eventId: event.id, type: event.type, at, source: event.source } },
      $addToSet: { appliedEvents: event.id, facts: event.type, ...(update.notification ? { notifications: update.notification } : {}) },
      $min: { createdAt: at },
      $max: { updatedAt: at },
    } as unknown as UpdateFilter<OrderSummary>;
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
    projectionLag.record(Math.max(0, (Date.now() - at.getTime()) / 1000), { projection: collectionName });
  }

  return {
    collection: summaries,
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
