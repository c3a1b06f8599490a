import { getMeter } from '@tracemart/platform';

const meter = getMeter();
/** Orders accepted for processing. */
export const placed = meter.createCounter('tracemart.orders.placed', { unit: '{order}', description: 'Orders placed' });
/** Orders that reached CONFIRMED. */
export const confirmed = meter.createCounter('tracemart.orders.confirmed', { unit: '{order}', description: 'Orders confirmed' });
/** Orders that reached CANCELLED, by reason (OUT_OF_STOCK, PAYMENT_DECLINED, SAGA_TIMEOUT). */
export const cancelled = meter.createCounter('tracemart.orders.cancelled', { unit: '{order}', description: 'Orders cancelled' });
/** Revenue of confirmed orders, in cents. */
export const revenue = meter.createCounter('tracemart.revenue', { unit: '{cent}', description: 'Revenue of confirmed orders in cents' });
/** Saga duration from placement to a terminal state, by outcome (confirmed|cancelled). */
export const sagaDuration = meter.createHistogram('tracemart.saga.duration', {
  unit: 's',
  description: 'Order saga duration, placement to terminal state',
  advice: { explicitBucketBoundaries: [0.01, 0.025, 0.05, 0.1, 0.15, 0.25, 0.5, 1, 2.5, 5, 10, 30] },
});
