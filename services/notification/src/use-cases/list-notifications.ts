import type { NotificationDeps } from '../dependencies';

/** A user's notifications, newest first (at most 100). */
export async function listNotifications({ notifications }: NotificationDeps, userId: string) {
  const items = await notifications.listFor(userId);
  return {
    items: items.map(({ id, orderId, kind, subject, body, status, createdAt }) => ({ id, orderId, kind, subject, body, status, createdAt: createdAt.toISOString() })),
  };
}
