import type { StreamSpec } from '@tracemart/platform';

/**
 * One stream per owning domain. Retention is by limits with no age limit: the ORDERS, INVENTORY,
 * PAYMENTS and NOTIFICATIONS streams are the history that read-model replays start from, so nothing
 * is discarded by age. The duplicate window (2 min) is what makes a republish with the same msgID a no-op.
 */
export const streams = {
  orders: { name: 'ORDERS', subjects: ['orders.>'] },
  inventory: { name: 'INVENTORY', subjects: ['inventory.>'] },
  payments: { name: 'PAYMENTS', subjects: ['payments.>'] },
  notifications: { name: 'NOTIFICATIONS', subjects: ['notifications.>'] },
  /** Messages a consumer could not process, kept for inspection and re-drive (`deadletter.<consumer>`). */
  deadletter: { name: 'DEADLETTER', subjects: ['deadletter.>'] },
} satisfies Record<string, StreamSpec>;

export const allStreams: StreamSpec[] = Object.values(streams);
