import { breakerState, createBreaker, isBreakerOpenError, isBreakerTimeoutError, retry, getMeter, type BreakerState, type Logger } from '@tracemart/platform';
import type { ChargeOutcome } from '../domain/charge';
import { ProcessorUnavailableError, type CardProcessor } from './card-processor';

export interface ProcessorResilience {
  timeoutMs: number;
  errorThresholdPercentage: number;
  volumeThreshold: number;
  resetTimeoutMs: number;
  retryAttempts: number;
  retryBaseMs: number;
  retryMaxMs: number;
}

/** Retries of processor calls (upstream=processor), as on the gateway's `tracemart.retries`. */
const retries = getMeter().createCounter('tracemart.retries', { unit: '{retry}', description: 'Retried calls to a dependency' });

/**
 * The card processor behind a circuit breaker, with retries (exponential backoff, full jitter) inside
 * each message's handling. Retrying is safe: charges carry the order id as idempotency key. While the
 * breaker is open, calls fail at once with EOPENBREAKER and the consumer naks the message for later.
 */
export function createProcessorClient(processor: CardProcessor, options: ProcessorResilience, logger: Logger) {
  const breaker = createBreaker((request: Parameters<CardProcessor['charge']>[0]) => processor.charge(request), {
    name: 'processor',
    timeoutMs: options.timeoutMs,
    errorThresholdPercentage: options.errorThresholdPercentage,
    volumeThreshold: options.volumeThreshold,
    resetTimeoutMs: options.resetTimeoutMs,
    logger,
  });
  return {
    charge(request: Parameters<CardProcessor['charge']>[0]): Promise<ChargeOutcome> {
      return retry(() => breaker.fire(request), {
        attempts: options.retryAttempts,
        baseMs: options.retryBaseMs,
        maxMs: options.retryMaxMs,
        shouldRetry: (err) => isTransient(err) && !isBreakerOpenError(err),
        onRetry: () => retries.add(1, { upstream: 'processor' }),
      });
    },
    state(): BreakerState {
      return breakerState(breaker);
    },
    resetTimeoutMs: options.resetTimeoutMs,
    dispose(): void {
      breaker.shutdown();
    },
  };
}
export type ProcessorClient = ReturnType<typeof createProcessorClient>;

/** Failures that say nothing about the charge itself: the processor may answer later. */
export function isTransient(err: unknown): boolean {
  return err instanceof ProcessorUnavailableError || isBreakerTimeoutError(err) || isBreakerOpenError(err);
}
