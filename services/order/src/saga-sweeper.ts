import { Fence, getMeter, LeaderElection, type Db, type EventBus, type Logger } from '@tracemart/platform';
import type { OrderUseCases } from './use-cases';

/** Orders cancelled by the sweeper because their saga did not finish in time. */
const timedOut = getMeter().createCounter('tracemart.saga.timeouts', { unit: '{order}', description: 'Orders cancelled by the saga timeout sweeper' });

/**
 * The saga timeout: orders stuck PENDING longer than `timeoutMs` are cancelled with SAGA_TIMEOUT, and
 * the usual compensation follows (inventory releases, payment refunds or never charges). Only the leader
 * sweeps (NATS KV lease), and every cancellation it writes first passes the fence with its token.
 */
export function createSagaSweeper(deps: {
  bus: EventBus;
  db: Db;
  orders: OrderUseCases;
  logger: Logger;
  instanceId: string;
  timeoutMs: number;
  intervalMs: number;
  leaseTtlMs: number;
}) {
  const { orders, logger } = deps;
  const fence = Fence.for(deps.db, 'saga-sweeper');
  const election = new LeaderElection(deps.bus, {
    role: 'order-saga-sweeper',
    instanceId: deps.instanceId,
    ttlMs: deps.leaseTtlMs,
    logger,
    onChange: (state) => {
      // A new leader raises the fence at once, so a deposed leader's next write is refused.
      if (state.leader && state.token !== undefined) void fence.check(state.token).catch((err: unknown) => logger.warn({ err }, 'could not raise the fence'));
    },
  });
  let timer: NodeJS.Timeout | undefined;
  let sweeping: Promise<void> | undefined;
  let swept = 0;

  async function sweep(): Promise<number> {
    const { leader, token } = election.current;
    if (!leader || token === undefined) return 0;
    let count = 0;
    for (const orderId of await orders.stalePending(deps.timeoutMs)) {
      await fence.check(token);
      await orders.cancel(orderId, 'SAGA_TIMEOUT');
      timedOut.add(1);
      logger.warn({ orderId, timeoutMs: deps.timeoutMs, fencingToken: token }, 'saga timed out, order cancelled');
      count += 1;
    }
    swept += count;
    return count;
  }

  return {
    election,
    fence,
    sweep,
    get swept() {
      return swept;
    },
    async start() {
      await election.start();
      timer = setInterval(() => {
        sweeping ??= sweep()
          .then(() => undefined)
          .catch((err: unknown) => logger.warn({ err }, 'saga sweep failed'))
          .finally(() => {
            sweeping = undefined;
          });
      }, deps.intervalMs);
      timer.unref();
    },
    async stop() {
      if (timer) clearInterval(timer);
      await sweeping;
      await election.stop();
    },
  };
}
