import { embeddedOutbox, startService, type RunningService } from '@tracemart/platform';
import { allStreams, streams, validateEvent } from '@tracemart/contracts';
import type { Config } from './config';
import { createLedger } from './data/ledger';
import { createPaymentStore } from './data/payments';
import { ledgerRoutes } from './http/ledger';
import { healthRoutes } from './http/health';
import { paymentHandlers } from './messaging/handlers';
import { createSimulatedProcessor, type CardProcessor } from './processor';
import { createProcessorClient } from './processor-client';

export interface RunningPayment extends RunningService {
  /** The simulated processor, so tests and drills can change its failure rate at run time. */
  processor: CardProcessor;
}

export async function start(config: Config): Promise<RunningPayment> {
  let processor: CardProcessor | undefined;
  const running = await startService({
    config,
    streams: allStreams,
    validateEvent,
    wire: async ({ app, db, logger, outbox, faults }) => {
      const store = await createPaymentStore(db);
      const relay = outbox([embeddedOutbox(store.payments)]);
      processor = createSimulatedProcessor({ latencyMs: config.PROCESSOR_LATENCY_MS, failureRate: config.PROCESSOR_FAILURE_RATE, faults });
      const client = createProcessorClient(
        processor,
        {
          timeoutMs: config.PROCESSOR_TIMEOUT_MS,
          errorThresholdPercentage: config.PROCESSOR_BREAKER_ERROR_PERCENT,
          volumeThreshold: config.PROCESSOR_BREAKER_VOLUME,
          resetTimeoutMs: config.PROCESSOR_BREAKER_RESET_MS,
          retryAttempts: config.PROCESSOR_RETRY_ATTEMPTS,
          retryBaseMs: config.PROCESSOR_RETRY_BASE_MS,
          retryMaxMs: config.PROCESSOR_RETRY_MAX_MS,
        },
        logger,
      );
      healthRoutes(app, client);
      const ledger = await createLedger(db);
      app.use('/payments', ledgerRoutes({ store, ledger }));
      const handler = paymentHandlers({ store, ledger, relay, processor: client, logger });
      return {
        consumers: [
          // No processed-event claims: each step is idempotent by itself (an upsert opens the payment, its status
          // guards every transition, the ledger's unique version every movement of money; the processor is called
          // with the order id as its idempotency key).
          {
            stream: streams.orders.name,
            durable: 'payment-orders',
            subject: 'orders.>',
            handles: ['orders.placed', 'orders.cancelled'],
            decode: validateEvent,
            handler,
            processed: undefined,
          },
          // Unbounded-ish redelivery: a processor outage postpones payments (nak with delay) for as long as it lasts.
          {
            stream: streams.inventory.name,
            durable: 'payment-inventory',
            subject: 'inventory.>',
            handles: ['inventory.reserved', 'inventory.rejected'],
            decode: validateEvent,
            handler,
            maxDeliver: 1_000,
            processed: undefined,
          },
        ],
        background: [
          { start: () => relay.start(), stop: () => relay.stop() },
          { start: () => undefined, stop: async () => client.dispose() },
        ],
      };
    },
  });
  if (!processor) throw new Error('payment wiring did not create the processor');
  return { ...running, processor };
}
