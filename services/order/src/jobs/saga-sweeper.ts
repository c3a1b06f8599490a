import { Fence, getMeter, LeaderElection, sweepEvery, type BackgroundJob, type Infrastructure } from '@tracemart/platform';
import type { Config } from '../config';
import type { OrderDeps } from '../dependencies';
import { findStalledOrders } from '../use-cases/find-stalled-orders';
import { timeOutOrder } from '../use-cases/time-out-order';

/** Orders cancelled by the sweeper because their saga did not finish in time. */
const timedOut = getMeter().createCounter('tracemart.saga.timeouts', { unit: '{order}', description: 'Orders cancelled by the saga timeout sweeper' });

/**
 * Who may sweep: a lease in NATS KV elects one leader among the order instances, and the fence in MongoDB refuses
 * writes made with a deposed leader's token.
 */
export function sweeperLeadership({ bus, db, logger }: Infrastructure, config: Config) {
  const fence = Fence.for(db, 'saga-sweeper');
  const election = new LeaderElection(bus, {
    role: 'order-saga-sweeper',
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
export type SweeperLeadership = ReturnType<typeof sweeperLeadership>;

/**
 * The saga timeout: orders stuck PENDING longer than SAGA_TIMEOUT_MS are cancelled with SAGA_TIMEOUT, and
 * the usual compensation follows (inventory releases, payment refunds or never charges). Only the leader
 * sweeps (NATS KV lease), and every cancellation it writes first passes the fence with its token.
 */
export function sagaSweeper(deps: OrderDeps, config: Config): BackgroundJob {
  const { leadership, logger } = deps;
  const timeoutMs = config.SAGA_TIMEOUT_MS;

  async function sweep(): Promise<void> {
    const { leader, token } = leadership.election.current;
    if (!leader || token === undefined) return;
    for (const orderId of await findStalledOrders(deps, timeoutMs)) {
      await leadership.fence.check(token);
      await timeOutOrder(deps, orderId);
      timedOut.add(1);
      logger.warn({ orderId, timeoutMs, fencingToken: token }, 'saga timed out, order cancelled');
    }
  }

  const sweeping = sweepEvery(config.SAGA_SWEEP_INTERVAL_MS, () => sweep().catch((err: unknown) => logger.warn({ err }, 'saga sweep failed')));
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
