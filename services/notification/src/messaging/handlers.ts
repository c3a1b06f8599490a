import { getMeter, KeyedLock, newEnvelope, type EventEnvelope, type HandlerResult, type Logger, type OutboxRelay } from '@tracemart/platform';
import { isEvent } from '@tracemart/contracts';
import type { NotificationStore } from '../data/notifications';
import { cancellationMessage, confirmationMessage } from '../domain/messages';
import type { EmailProvider } from '../email-provider';

/** Notifications delivered by the email provider, by kind. */
const sent = getMeter().createCounter('tracemart.notifications.sent', { unit: '{notification}', description: 'Notifications sent' });

export function notificationHandler(deps: { store: NotificationStore; relay: OutboxRelay; email: EmailProvider; logger: Logger }) {
  const { store, relay, email, logger } = deps;
  const perNotification = new KeyedLock();
  return async (msg: EventEnvelope): Promise<HandlerResult> => {
    let userId: string;
    let orderId: string;
    let message: ReturnType<typeof confirmationMessage>;
    if (isEvent(msg, 'orders.confirmed')) {
      ({ userId, orderId } = msg.data);
      message = confirmationMessage(orderId, msg.data.totalCents);
    } else if (isEvent(msg, 'orders.cancelled')) {
      ({ userId, orderId } = msg.data);
      message = cancellationMessage(orderId, msg.data.reason);
    } else {
      return 'ack';
    }
    // Copies of one fact (new event ids, so the consumer's claim does not see them as duplicates) must
    // not email twice: decide-and-send is serialised per notification (the conditional update below is
    // not atomic across connections on FerretDB v1, and the send happens before it).
    return perNotification.run(`${orderId}:${message.kind}`, () => deliver(msg, userId, orderId, message));
  };

  async function deliver(msg: EventEnvelope, userId: string, orderId: string, message: ReturnType<typeof confirmationMessage>): Promise<HandlerResult> {
    const notification = await store.queue({ _id: `${orderId}:${message.kind}`, userId, orderId, ...message });
    if (notification.status === 'SENT') return 'ack';
    await email.send({ to: userId, subject: notification.subject, body: notification.body });
    const event = newEnvelope(
      'notifications.sent',
      { notificationId: notification._id, orderId, userId, kind: message.kind },
      { source: 'notification', correlationId: msg.correlationId },
    );
    const marked = await relay.write(store.notifications, { _id: notification._id, status: 'QUEUED' }, { $set: { status: 'SENT', sentAt: new Date() } }, [event]);
    if (marked) {
      sent.add(1, { kind: message.kind });
      logger.info({ orderId, kind: message.kind }, 'notification sent');
    }
    return 'ack';
  }
}
