import { defineService } from '@tracemart/platform';
import { eventCatalog } from '@tracemart/contracts';
import { configSchema } from './config';
import { paymentDependencies } from './dependencies';
import { paymentRoutes } from './http/routes';
import { cancelPayment } from './use-cases/cancel-payment';
import { chargePayment } from './use-cases/charge-payment';
import { compensatePayment } from './use-cases/compensate-payment';
import { openPayment } from './use-cases/open-payment';

/**
 * Payment: charges a simulated card processor once stock is reserved, refunds when a charged order is cancelled.
 * No processed-event claims: each use case is idempotent by itself (opening is an upsert, the payment's status
 * guards every transition, the ledger's unique version every movement of money, and the processor is called with
 * the order id as its idempotency key). Partitioned by order id across the payment instances: one order's events
 * are handled by one instance at a time, which is what makes the status guard safe on FerretDB (its conditional
 * updates are not atomic across connections).
 */
export const paymentModule = defineService({
  name: 'payment',
  configSchema,
  events: eventCatalog,
  dependencies: paymentDependencies,
  routes: paymentRoutes,
  consumers: [
    { durable: 'payment-orders', partitioned: true, on: { 'orders.placed': openPayment, 'orders.cancelled': compensatePayment } },
    {
      durable: 'payment-inventory',
      partitioned: true,
      on: { 'inventory.reserved': chargePayment, 'inventory.rejected': cancelPayment },
      // Unbounded-ish redelivery: a processor outage postpones payments (nak with delay) for as long as it lasts.
      settings: { maxDeliver: 1_000 },
    },
  ],
  background: ({ payments, processor }) => [payments.relay, { start: () => undefined, stop: async () => processor.dispose() }],
});
