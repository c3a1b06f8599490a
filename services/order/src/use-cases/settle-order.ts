import { AppError, type Logger } from '@tracemart/platform';
import { ConcurrencyError, type StoredEvent } from '../data/event-store';
import { replay, type OrderEvent, type OrderState } from '../domain/order';
import type { OrderDeps } from '../dependencies';
import { cancelled, confirmed, revenue, sagaDuration } from './metrics';

const MAX_APPEND_ATTEMPTS = 5;

/**
 * The order side of the saga, shared by every step that ends an order: loads it, lets `decision` decide (a terminal
 * order decides nothing more) and settles it with what was decided, in one store call. Retries when another writer
 * appended first (optimistic concurrency), so two concurrent decisions meet at the event store's unique version.
 * Resolves to the events stored: none when the order had already ended.
 */
export async function settleOrder({ orders, logger }: OrderDeps, orderId: string, decision: (state: OrderState) => OrderEvent[]): Promise<readonly StoredEvent[]> {
  for (let attempt = 1; ; attempt += 1) {
    const history = await orders.load(orderId);
    const state = replay(history);
    if (!state) throw new AppError('not_found', 'ORDER.NOT_FOUND', `no order ${orderId}`);
    try {
      const stored = await orders.settle(orderId, state.version, decision(state), orderId, history);
      recordTerminal(logger, stored, history[0]?.occurredAt ?? new Date());
      return stored;
    } catch (err) {
      if (!(err instanceof ConcurrencyError) || attempt >= MAX_APPEND_ATTEMPTS) throw err;
      logger.debug({ orderId, attempt }, 'concurrent append, retrying');
    }
  }
}

function recordTerminal(logger: Logger, stored: readonly StoredEvent[], placedAt: Date): void {
  for (const event of stored) {
    const seconds = (event.occurredAt.getTime() - placedAt.getTime()) / 1000;
    if (event.type === 'orders.confirmed') {
      confirmed.add(1);
      revenue.add(event.data.totalCents);
      sagaDuration.record(seconds, { outcome: 'confirmed' });
      logger.info({ orderId: event.streamId }, 'order confirmed');
    } else if (event.type === 'orders.cancelled') {
      cancelled.add(1, { reason: event.data.reason });
      sagaDuration.record(seconds, { outcome: 'cancelled' });
      logger.info({ orderId: event.streamId, reason: event.data.reason }, 'order cancelled');
    }
  }
}
