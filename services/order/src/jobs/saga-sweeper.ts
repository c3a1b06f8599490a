import { partitionOf } from '@tracemart/contracts';
import { Fence, getMeter, sweepEvery, type BackgroundJob, type Db, type PartitionOwnership } from '@tracemart/platform';
import type { Config } from '../config';
import type { OrderDeps } from '../dependencies';
import { findStalledOrders } from '../use-cases/find-stalled-orders';
import { timeOutOrder } from '../use-cases/time-out-order';

/** Orders cancelled by the sweeper because their saga did not finish in time. */
const timedOut = getMeter().createCounter('tracemart.saga.timeouts', { unit: '{order}', description: 'Orders cancelled by the saga timeout sweeper' });

/** Stalled orders being cancelled at once. */
const SWEEP_CONCURRENCY = 4;

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
 * and each sweep first passes the fence of every partition it cancels in, with the lease's token.
 */
export function sagaSweeper(deps: OrderDeps, config: Config): BackgroundJob {
  const { logger, partitions } = deps;
  const timeoutMs = config.SAGA_TIMEOUT_MS;

  /** Times out one stalled order of a partition whose fence this sweep passed with `token`. */
  async function timeOut(orderId: string, partition: number, token: number): Promise<void> {
    // An order that ended meanwhile (or was cancelled by the sweep before, its settled mark still being written in
    // the background) is found again: nothing is stored then, and nothing is counted or logged.
    if (!(await timeOutOrder(deps, orderId))) return;
    timedOut.add(1);
    logger.warn({ orderId, timeoutMs, partition, fencingToken: token }, 'saga timed out, order cancelled');
  }

  /** The fencing token of each partition held here whose fence passed it now (a deposed owner's is refused). */
  async function passFences(ownership: PartitionOwnership, partitionsOfOrders: Set<number>): Promise<Map<number, number>> {
    const passed = new Map<number, number>();
    await Promise.all(
      [...partitionsOfOrders].map(async (partition) => {
        const token = ownership.tokenOf(partition);
        if (token === undefined) return;
        await deps
          .fences(partition)
          .check(token)
          .then(
            () => passed.set(partition, token),
            (err: unknown) => logger.warn({ err, partition, fencingToken: token }, 'saga sweep: fence refused this instance'),
          );
      }),
    );
    return passed;
  }

  // Cancellations run on a few workers of their own, not inside the sweep: a sweep finds the stalled orders, passes their
  // partitions' fences and hands the orders over, and the next sweep does not wait for them. Waiting (one sweep's
  // cancellations, then the next sweep's find) left an order that fell due just after a sweep began 6-10 s late under
  // load (tests/e2e/partitioned-instances.e2e.test.ts).
  const queue: { orderId: string; partition: number; token: number }[] = [];
  /** Orders queued or being cancelled: a sweep meanwhile finds them again and leaves them be. */
  const inHand = new Set<string>();
  const workers = new Set<Promise<void>>();
  const work = async () => {
    for (let next = queue.shift(); next; next = queue.shift()) {
      const { orderId, partition, token } = next;
      // Still this instance's partition, under the same lease, or left to its new owner.
      if (partitions?.tokenOf(partition) === token) {
        await timeOut(orderId, partition, token).catch((err: unknown) => logger.warn({ err, orderId }, 'saga timeout failed'));
      }
      inHand.delete(orderId);
    }
  };

  async function sweep(): Promise<void> {
    if (!partitions) return;
    const stalled = (await findStalledOrders(deps, timeoutMs))
      .filter((orderId) => !inHand.has(orderId))
      .map((orderId) => ({ orderId, partition: partitionOf(orderId, partitions.count) }));
    // Each partition's fence is passed once per sweep (all at once). One after another, with a fence write per order, a
    // sweep after a takeover (every order the dead owner had in flight) took 1-3 s per order under load.
    const passed = await passFences(partitions, new Set(stalled.map((s) => s.partition)));
    for (const { orderId, partition } of stalled) {
      const token = passed.get(partition);
      if (token === undefined) continue;
      inHand.add(orderId);
      queue.push({ orderId, partition, token });
    }
    while (workers.size < SWEEP_CONCURRENCY && queue.length > 0) {
      const worker: Promise<void> = work().finally(() => workers.delete(worker));
      workers.add(worker);
    }
  }

  const job = sweepEvery(config.SAGA_SWEEP_INTERVAL_MS, () => sweep().catch((err: unknown) => logger.warn({ err }, 'saga sweep failed')));
  return {
    start: job.start,
    /** Stops sweeping and waits for the cancellations under way; the ones still queued are the next sweep's (anyone's). */
    async stop() {
      await job.stop();
      queue.length = 0;
      while (workers.size > 0) await Promise.all(workers);
    },
  };
}
