import { KeyedLock, type Infrastructure } from '@tracemart/platform';
import { paymentTokenSeal } from '@tracemart/contracts';
import { createSimulatedProcessor } from './clients/card-processor';
import { createProcessorClient } from './clients/card-processor-client';
import type { Config } from './config';
import { createLedger } from './data/ledger';
import { createPaymentStore } from './data/payments';

/** What the payment use cases run with. */
export async function paymentDependencies({ db, logger, outbox, faults }: Infrastructure, config: Config) {
  const simulatedProcessor = createSimulatedProcessor({ latencyMs: config.PROCESSOR_LATENCY_MS, failureRate: config.PROCESSOR_FAILURE_RATE, faults });
  return {
    logger,
    payments: await createPaymentStore(db, outbox),
    ledger: await createLedger(db),
    /** Opens the card token the order service sealed into orders.placed. */
    paymentTokens: paymentTokenSeal(config.PAYMENT_TOKEN_KEY),
    /** The simulated processor itself, so tests and drills can change its failure rate at run time. */
    simulatedProcessor,
    processor: createProcessorClient(
      simulatedProcessor,
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
    ),
    /**
     * One money decision at a time per order: FerretDB v1 does not apply a conditional status update atomically
     * across connections, so concurrent copies of one order's events are serialised here.
     */
    perOrder: new KeyedLock(),
  };
}
export type PaymentDeps = Awaited<ReturnType<typeof paymentDependencies>>;
