import { KeyedLock, type Infrastructure } from '@tracemart/platform';
import { createEmailProvider } from './clients/email-provider';
import type { Config } from './config';
import { createNotificationStore } from './data/notifications';
import { retentionLeadership } from './jobs/retention-sweep';

/** What the notification use cases and jobs run with. */
export async function notificationDependencies(infra: Infrastructure, config: Config) {
  const { db, logger, outbox } = infra;
  return {
    logger,
    notifications: await createNotificationStore(db, outbox),
    email: createEmailProvider({ ratePerSecond: config.EMAIL_RATE_PER_SECOND, failureRate: config.EMAIL_FAILURE_RATE }),
    /**
     * Copies of one fact (new event ids, so the consumer's claim does not see them as duplicates) must not email
     * twice: decide-and-send is serialised per notification (its conditional update is not atomic across connections
     * on FerretDB v1, and the send happens before it).
     */
    perNotification: new KeyedLock(),
    /** The retention sweep's lease and fence: one instance sweeps. */
    leadership: retentionLeadership(infra, config),
  };
}
export type NotificationDeps = Awaited<ReturnType<typeof notificationDependencies>>;
