import { setTimeout as sleep } from 'node:timers/promises';
import type { FaultInjector } from '@tracemart/platform';
import { decideCharge, type ChargeOutcome } from '../domain/charge';

/** The processor did not answer (down, timed out, 5xx): transient, worth a retry later. */
export class ProcessorUnavailableError extends Error {
  override name = 'ProcessorUnavailableError';
}

/** Injected faults reach the simulated processor under this path, so `route: '/processor'` targets it alone. */
export const PROCESSOR_FAULT_PATH = '/processor/charge';

/**
 * Stand-in for an external card processor reached over the network: it takes time and decides by
 * token. Charges are keyed by an idempotency key, as real processors do, so retrying a charge whose
 * answer was lost never charges twice. It fails at `failureRate` (and under injected error/outage
 * faults) the way a remote processor does: with no answer.
 */
export function createSimulatedProcessor(options: { latencyMs: number; failureRate?: number; faults?: FaultInjector; random?: () => number }) {
  const answers = new Map<string, ChargeOutcome>();
  const random = options.random ?? Math.random;
  let failureRate = options.failureRate ?? 0;
  let calls = 0;
  return {
    async charge(request: { idempotencyKey: string; amountCents: number; token: string }): Promise<ChargeOutcome> {
      calls++;
      const effect = options.faults?.effectFor(PROCESSOR_FAULT_PATH);
      await sleep(options.latencyMs + (effect?.delayMs ?? 0));
      if (effect?.fail || (failureRate > 0 && random() < failureRate)) throw new ProcessorUnavailableError('card processor unavailable');
      const known = answers.get(request.idempotencyKey);
      if (known) return known;
      const outcome = decideCharge(request.token);
      answers.set(request.idempotencyKey, outcome);
      if (answers.size > 10_000) answers.delete(answers.keys().next().value ?? '');
      return outcome;
    },
    /** Changes the simulated failure rate at run time (tests; recovery drills). */
    setFailureRate(rate: number): void {
      failureRate = Math.min(1, Math.max(0, rate));
    },
    /** Calls made so far, failed ones included. */
    get calls(): number {
      return calls;
    },
  };
}
export type CardProcessor = ReturnType<typeof createSimulatedProcessor>;
