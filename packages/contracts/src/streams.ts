import { partitionTransform } from './partitions';

/** A JetStream stream as the services provision it (platform's `StreamSpec` takes the same shape). */
export interface StreamDefinition {
  name: string;
  subjects: string[];
  /** Seconds to keep messages; replay of read models needs the whole history, so the default is forever. */
  maxAgeSeconds?: number;
  duplicateWindowSeconds?: number;
  retention?: 'limits' | 'workqueue';
  /** How the stream rewrites a subject before storing it: here, sharding by order id (partitions.ts). */
  subjectTransform?: { src: string; dest: string };
}

/**
 * One stream per owning domain. Retention is by limits with no age limit: the ORDERS, INVENTORY,
 * PAYMENTS and NOTIFICATIONS streams are the history that read-model replays start from, so nothing
 * is discarded by age. The duplicate window (2 min) is what makes a republish with the same msgID a no-op.
 * The four domain streams are sharded by order id (partitions.ts); dead letters are not.
 */
export const streams = {
  orders: { name: 'ORDERS', subjects: ['orders.>'], subjectTransform: partitionTransform('orders') },
  inventory: { name: 'INVENTORY', subjects: ['inventory.>'], subjectTransform: partitionTransform('inventory') },
  payments: { name: 'PAYMENTS', subjects: ['payments.>'], subjectTransform: partitionTransform('payments') },
  notifications: { name: 'NOTIFICATIONS', subjects: ['notifications.>'], subjectTransform: partitionTransform('notifications') },
  /** Messages a consumer could not process, kept for inspection and re-drive (`deadletter.<consumer>`). */
  deadletter: { name: 'DEADLETTER', subjects: ['deadletter.>'] },
} satisfies Record<string, StreamDefinition>;

export const allStreams: StreamDefinition[] = Object.values(streams);
