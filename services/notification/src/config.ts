import { z } from 'zod';
import { serviceConfigSchema } from '@tracemart/platform';

export const configSchema = serviceConfigSchema(
  { name: 'notification', port: 3006 },
  {
    /** Simulated email provider: messages per second it accepts (queue-based load leveling). */
    EMAIL_RATE_PER_SECOND: z.coerce.number().positive().default(50),
    /** Share of sends that fail transiently (0..1): exercises retries with growing delays. */
    EMAIL_FAILURE_RATE: z.coerce.number().min(0).max(1).default(0),
    /** Deliveries before a notification is dead-lettered. */
    NOTIFICATION_MAX_DELIVER: z.coerce.number().int().min(1).max(100).default(5),
    /** Bounded concurrency in front of the provider (JetStream max ack pending). */
    NOTIFICATION_MAX_ACK_PENDING: z.coerce.number().int().min(1).max(1000).default(16),
    /** Sent notifications stay in the customer's inbox this many days, then the leader's sweep deletes them. */
    NOTIFICATION_RETENTION_DAYS: z.coerce.number().int().min(1).default(30),
    RETENTION_SWEEP_INTERVAL_MS: z.coerce.number().int().min(100).default(3600_000),
    /** The retention sweeper's leader lease (NATS KV TTL): a dead leader is replaced within this time. */
    LEADER_LEASE_TTL_MS: z.coerce.number().int().min(1_000).default(5_000),
  },
);
export type Config = z.infer<typeof configSchema>;
