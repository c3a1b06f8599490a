import { Agent, request } from 'undici';
import { AppError, type Logger } from '@tracemart/platform';

export type PaymentState = 'unknown' | 'closed' | 'half-open' | 'open' | 'unreachable';

/** Consecutive failed probes after which an instance counts as down (one lost probe is not an outage). */
const FAILURES_TO_UNREACHABLE = 2;
const RANK: Record<PaymentState, number> = { closed: 0, 'half-open': 1, unknown: 2, open: 3, unreachable: 4 };

/**
 * What the gateway knows about payments. Checkout is asynchronous (202, then a saga over NATS), so the
 * gateway never sees a charge fail; instead it polls `GET /payments/health` on every payment instance
 * for the processor breaker's state and refuses checkout at once while no instance can take payments
 * (breaker open, or the process not answering).
 */
export function createPaymentHealth(options: { urls: string[]; intervalMs: number; timeoutMs: number; agent: Agent; logger: Logger }) {
  const { agent, logger } = options;
  const instances = options.urls.map((url) => ({ url, state: 'unknown' as PaymentState, failures: 0 }));
  let state: PaymentState = 'unknown';
  let timer: NodeJS.Timeout | undefined;

  async function probeOne(instance: (typeof instances)[number]): Promise<void> {
    try {
      const answer = await request(`${instance.url}/payments/health`, { dispatcher: agent, signal: AbortSignal.timeout(options.timeoutMs) });
      const body = (await answer.body.json().catch(() => undefined)) as { processor?: unknown } | undefined;
      const processor = body?.processor;
      if (answer.statusCode === 200 && (processor === 'closed' || processor === 'open' || processor === 'half-open')) {
        instance.failures = 0;
        instance.state = processor;
        return;
      }
      throw new Error(`health answered ${answer.statusCode}`);
    } catch {
      instance.failures++;
      if (instance.failures >= FAILURES_TO_UNREACHABLE) instance.state = 'unreachable';
    }
  }

  async function probe(): Promise<void> {
    await Promise.all(instances.map(probeOne));
    const best = instances.map((i) => i.state).sort((a, b) => RANK[a] - RANK[b])[0] ?? 'unknown';
    if (best !== state) {
      const log = { dependency: 'payment', from: state, to: best };
      if (best === 'open' || best === 'unreachable') logger.warn(log, 'payment unavailable: checkout will be refused');
      else logger.info(log, 'payment health changed');
      state = best;
    }
  }

  return {
    probe,
    state: () => state,
    /** Until the first answer the gateway assumes payments work: it must not refuse checkout at start-up. */
    available: () => state !== 'open' && state !== 'unreachable',
    /** Throws the fast 503 naming payment while payments cannot be taken. */
    assertAvailable(): void {
      if (state === 'open' || state === 'unreachable') {
        throw new AppError('unavailable', 'DEPENDENCY.UNAVAILABLE', 'payment is unavailable', { details: { dependency: 'payment' }, retryAfterSeconds: 5 });
      }
    },
    start(): void {
      void probe();
      timer = setInterval(() => void probe(), options.intervalMs);
      timer.unref();
    },
    stop(): void {
      if (timer) clearInterval(timer);
    },
  };
}
export type PaymentHealth = ReturnType<typeof createPaymentHealth>;
