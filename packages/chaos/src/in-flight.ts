import { setTimeout as sleep } from 'node:timers/promises';
import type { MongoClient } from 'mongodb';

/**
 * Orders accepted and not yet terminal, from the order service's own event store (`order_events`: one orders.placed
 * per accepted order, at most one terminal event each, which the invariant checker holds it to): placed minus
 * terminal. Read just before a fault; undefined when the database does not answer within `timeoutMs`.
 */
export async function ordersInFlight(mongo: MongoClient, timeoutMs = 10_000, dbPrefix = 'tracemart_'): Promise<number | undefined> {
  const db = mongo.db(`${dbPrefix}order`);
  // The `count` command with one equality filter each: FerretDB (v1) hands such a filter to PostgreSQL, but filters an
  // $in document by document itself: countDocuments with an $in (3 s bound) gave no answer from the fifth fault of a
  // full run on, on a machine at load 30.
  const byType = async (type: string) => Number((await db.command({ count: 'order_events', query: { type }, maxTimeMS: timeoutMs })).n);
  const count = async () => {
    const [placed, confirmed, cancelled] = await Promise.all(['orders.placed', 'orders.confirmed', 'orders.cancelled'].map(byType));
    return Math.max(0, (placed ?? 0) - (confirmed ?? 0) - (cancelled ?? 0));
  };
  return Promise.race([count(), sleep(timeoutMs, undefined, { ref: false })]).catch(() => undefined);
}
