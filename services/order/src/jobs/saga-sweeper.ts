import { partitionOf } from '@tracemart/contracts';
import { Fence, getMeter, sweepEvery, type BackgroundJob, type Db } from '@tracemart/platform';
import type { Config } from '../config';
import type { OrderDeps } from '../dependencies';
import { findStalledOrders } from '../use-cases/find-stalled-orders';
import { timeOutOrder } from '../use-cases/time-out-order';

/** Orders cancelled by the sweeper because their saga did not finish in time. */
const timedOut = getMeter().createCounter('tracemart.saga.timeouts', { unit: '{order}', description: 'Orders cancelled by the saga timeout sweeper' });

/** One fence per partition in MongoDB: a write made with a deposed owner's token is refused. */
export function partitionFences(db: Db) {
  const fences = new Map<number, Fence>();
  return (partition: number): Fence => {
    let fence = fences.get(partition);
    if (!fence) fences.set(partition, (fence = Fence.for(db, `saga-sweeper-p${partition}`)));
    return fence;
  };
}

/**
 * The saga timeout: orders stuck PENDING longer than SAGA_TIMEOUT_MS are cancelled with SAGA_TIMEOUT, and the usual
 * compensation follows (inventory releases, payment refunds or never charges). Sweeping follows the partition
 * ownership of the saga's consumers: each instance times out only the orders of partitions it owns (NATS KV leases),
 * and every cancellation first passes that partition's fence with the lease's token.
 */
export function sagaSweeper(deps: OrderDeps, config: Config): BackgroundJob {
  const { logger, partitions } = deps;
  const timeoutMs = config.SAGA_TIMEOUT_MS;

  async function sweep(): Promise<void> {
    if (!partitions) return;
    for (const orderId of await findStalledOrders(deps, timeoutMs)) {
      const partition = partitionOf(orderId, partitions.count);
      const token = partitions.tokenOf(partition);
      if (token === undefined) continue;
      await deps.fences(partition).check(token);
      // An order that ended meanwhile (or was cancelled by the sweep before, its settled mark still being written in
      // the background) is found again: nothing is stored then, and nothing is counted or logged.
      if (!(await timeOutOrder(deps, orderId))) continue;
      timedOut.add(1);
      logger.warn({ orderId, timeoutMs, partition, fencingToken: token }, 'saga timed out, order cancelled');
    }
  }

  return sweepEvery(config.SAGA_SWEEP_INTERVAL_MS, () => sweep().catch((err: unknown) => logger.warn({ err }, 'saga sweep failed')));
}
