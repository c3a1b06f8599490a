import { Fence, LeaderElection, sweepEvery, type BackgroundJob, type Infrastructure } from '@tracemart/platform';
import type { Config } from '../config';
import type { NotificationDeps } from '../dependencies';
import { retentionCutoff } from '../domain/messages';

/**
 * Who may sweep: one leader among the notification instances (a NATS KV lease), and a fence in MongoDB that refuses a
 * deposed leader's token. A whole-collection cleanup wants one runner, not a share per instance (compare the order
 * saga's partitions).
 */
export function retentionLeadership({ bus, db, logger }: Infrastructure, config: Config) {
  const fence = Fence.for(db, 'notification-retention');
  const election = new LeaderElection(bus, {
    role: 'notification-retention',
    instanceId: config.INSTANCE_ID,
    ttlMs: config.LEADER_LEASE_TTL_MS,
    logger,
    onChange: (state) => {
      // A new leader raises the fence at once, so a deposed leader's next write is refused.
      if (state.leader && state.token !== undefined) void fence.check(state.token).catch((err: unknown) => logger.warn({ err }, 'could not raise the fence'));
    },
  });
  return { election, fence };
}
export type RetentionLeadership = ReturnType<typeof retentionLeadership>;

/** Every RETENTION_SWEEP_INTERVAL_MS, on the leader only: deletes sent notifications older than NOTIFICATION_RETENTION_DAYS. */
export function retentionSweep({ notifications, leadership, logger }: NotificationDeps, config: Config): BackgroundJob {
  const sweeping = sweepEvery(config.RETENTION_SWEEP_INTERVAL_MS, async () => {
    const { leader, token } = leadership.election.current;
    if (!leader || token === undefined) return;
    await leadership.fence.check(token);
    const removed = await notifications.expire(retentionCutoff(new Date(), config.NOTIFICATION_RETENTION_DAYS));
    if (removed > 0) logger.info({ removed, fencingToken: token }, 'expired notifications removed');
  });
  return {
    async start() {
      await leadership.election.start();
      await sweeping.start();
    },
    async stop() {
      await sweeping.stop();
      await leadership.election.stop();
    },
  };
}
