import { sweepEvery, type BackgroundJob } from '@tracemart/platform';
import type { Config } from '../config';
import type { NotificationDeps } from '../dependencies';
import { retentionCutoff } from '../domain/messages';

/** Hourly: deletes sent notifications older than NOTIFICATION_RETENTION_DAYS from the customers' inboxes. */
export function retentionSweep({ notifications }: NotificationDeps, config: Config): BackgroundJob {
  return sweepEvery(3600_000, () => notifications.expire(retentionCutoff(new Date(), config.NOTIFICATION_RETENTION_DAYS)));
}
