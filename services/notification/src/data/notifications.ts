import type { Db, OutboxDocument } from '@tracemart/platform';
import type { NotificationKind } from '../domain/messages';

export interface NotificationDocument extends OutboxDocument {
  _id: string; // `${orderId}:${kind}`: one notification of a kind per order, however often the event arrives
  userId: string;
  orderId: string;
  kind: NotificationKind;
  subject: string;
  body: string;
  status: 'QUEUED' | 'SENT';
  createdAt: Date;
  sentAt?: Date;
}

export async function createNotificationStore(db: Db) {
  const notifications = db.collection<NotificationDocument>('notifications');
  await notifications.createIndex({ userId: 1, createdAt: -1 });
  return {
    notifications,
    /** Stores the notification unless it exists; returns the stored one. */
    async queue(doc: Omit<NotificationDocument, 'status' | 'createdAt' | 'outbox'>): Promise<NotificationDocument> {
      const stored = await notifications.findOneAndUpdate(
        { _id: doc._id },
        { $setOnInsert: { ...doc, status: 'QUEUED', createdAt: new Date(), outbox: [] } },
        { upsert: true, returnDocument: 'after' },
      );
      if (!stored) throw new Error(`notification ${doc._id} vanished`);
      return stored;
    },
    /**
     * Deletes sent notifications older than `cutoff` (the inbox's retention). Safe for delivery: the `_id` that stops
     * a second email for one order only has to outlive redeliveries of its event, which end within minutes.
     */
    async expire(cutoff: Date): Promise<number> {
      return (await notifications.deleteMany({ status: 'SENT', sentAt: { $lt: cutoff } })).deletedCount;
    },
    listFor: (userId: string) =>
      notifications
        .find({ userId }, { projection: { outbox: 0 } })
        .sort({ createdAt: -1 })
        .limit(100)
        .toArray(),
  };
}
export type NotificationStore = Awaited<ReturnType<typeof createNotificationStore>>;
