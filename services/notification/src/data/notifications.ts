import { embeddedOutbox, fromDocument, type Db, type EventEnvelope, type OutboxDocument, type OutboxRelay, type OutboxSource } from '@tracemart/platform';
import type { NotificationKind } from '../domain/messages';

export type NotificationStatus = 'QUEUED' | 'SENT';

/** One notification, as the use cases see it. */
export interface Notification {
  id: string;
  userId: string;
  orderId: string;
  kind: NotificationKind;
  subject: string;
  body: string;
  status: NotificationStatus;
  createdAt: Date;
  sentAt?: Date;
}

interface NotificationDocument extends OutboxDocument, Omit<Notification, 'id'> {
  _id: string; // `${orderId}:${kind}`: one notification of a kind per order, however often the event arrives
}

const toNotification = (doc: NotificationDocument): Notification => fromDocument<Notification, 'id'>(doc, 'id');

/**
 * The notifications collection: one document per order and kind, carrying its status and (embedded outbox) the
 * notifications.sent event its sending causes, written in the same update and published by `relay`.
 */
export async function createNotificationStore(db: Db, outbox: (sources: OutboxSource[]) => OutboxRelay) {
  const notifications = db.collection<NotificationDocument>('notifications');
  await notifications.createIndex({ userId: 1, createdAt: -1 });
  const relay = outbox([embeddedOutbox(notifications)]);
  return {
    relay,
    /** Stores the notification unless it exists; returns the stored one. */
    async queue(notification: Pick<Notification, 'id' | 'userId' | 'orderId' | 'kind' | 'subject' | 'body'>): Promise<Notification> {
      const { id, ...fields } = notification;
      const stored = await notifications.findOneAndUpdate(
        { _id: id },
        { $setOnInsert: { ...fields, status: 'QUEUED', createdAt: new Date(), outbox: [] } },
        { upsert: true, returnDocument: 'after' },
      );
      if (!stored) throw new Error(`notification ${id} vanished`);
      return toNotification(stored);
    },
    /** Marks a queued notification SENT with the events that causes, in one update; false when it was not QUEUED. */
    markSent: (id: string, events: EventEnvelope[]): Promise<boolean> =>
      relay.write(notifications, { _id: id, status: 'QUEUED' }, { $set: { status: 'SENT', sentAt: new Date() } }, events),
    /**
     * Deletes sent notifications older than `cutoff` (the inbox's retention). Safe for delivery: the `_id` that stops
     * a second email for one order only has to outlive redeliveries of its event, which end within minutes.
     */
    async expire(cutoff: Date): Promise<number> {
      return (await notifications.deleteMany({ status: 'SENT', sentAt: { $lt: cutoff } })).deletedCount;
    },
    async listFor(userId: string): Promise<Notification[]> {
      const docs = await notifications
        .find({ userId }, { projection: { outbox: 0 } })
        .sort({ createdAt: -1 })
        .limit(100)
        .toArray();
      return docs.map(toNotification);
    },
  };
}
export type NotificationStore = Awaited<ReturnType<typeof createNotificationStore>>;
