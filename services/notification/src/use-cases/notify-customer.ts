import { getMeter, newEnvelope } from '@tracemart/platform';
import type { TypedEvent } from '@tracemart/contracts';
import { messageFor, notificationId, type Message } from '../domain/messages';
import type { NotificationDeps } from '../dependencies';

/** Notifications delivered by the email provider, by kind. */
const sent = getMeter().createCounter('tracemart.notifications.sent', { unit: '{notification}', description: 'Notifications sent' });

type OrderOutcomeEvent = TypedEvent<'orders.confirmed'> | TypedEvent<'orders.cancelled'>;

/**
 * orders.confirmed / orders.cancelled: emails the customer once per order and kind, then marks the notification SENT
 * with notifications.sent. A provider failure throws: the message comes back after the consumer's backoff.
 */
export function notifyCustomer(deps: NotificationDeps, event: OrderOutcomeEvent): Promise<void> {
  const message = messageFor(event);
  const id = notificationId(event.data.orderId, message.kind);
  return deps.perNotification.run(id, () => deliver(deps, event, id, message));
}

async function deliver({ notifications, email, logger }: NotificationDeps, event: OrderOutcomeEvent, id: string, message: Message): Promise<void> {
  const { orderId, userId } = event.data;
  const notification = await notifications.queue({ id, userId, orderId, ...message });
  if (notification.status === 'SENT') return;
  await email.send({ to: userId, subject: notification.subject, body: notification.body });
  const sentEvent = newEnvelope('notifications.sent', { notificationId: id, orderId, userId, kind: message.kind }, { source: 'notification', correlationId: event.correlationId });
  if (await notifications.markSent(id, [sentEvent])) {
    sent.add(1, { kind: message.kind });
    logger.info({ orderId, kind: message.kind }, 'notification sent');
  }
}
