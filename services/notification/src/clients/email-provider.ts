import { setTimeout as sleep } from 'node:timers/promises';
import { AppError } from '@tracemart/platform';

/**
 * A simulated, rate-limited email provider (token bucket). The consumer in front of it has bounded
 * concurrency (max ack pending), so a burst of events waits in JetStream instead of overrunning it:
 * queue-based load leveling.
 */
export function createEmailProvider(options: { ratePerSecond: number; failureRate?: number; random?: () => number }) {
  const random = options.random ?? Math.random;
  const capacity = Math.max(1, Math.ceil(options.ratePerSecond / 10));
  let tokens = capacity;
  let last = Date.now();
  return {
    async send(_message: { to: string; subject: string; body: string }): Promise<void> {
      for (;;) {
        const now = Date.now();
        tokens = Math.min(capacity, tokens + ((now - last) / 1000) * options.ratePerSecond);
        last = now;
        if (tokens >= 1) {
          tokens -= 1;
          if (random() < (options.failureRate ?? 0)) throw new AppError('unavailable', 'EMAIL.PROVIDER_UNAVAILABLE', 'email provider failed, try again later');
          return;
        }
        await sleep(Math.ceil(((1 - tokens) / options.ratePerSecond) * 1000));
      }
    },
  };
}
export type EmailProvider = ReturnType<typeof createEmailProvider>;
