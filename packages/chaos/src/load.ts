import { setTimeout as sleep } from 'node:timers/promises';
import { closedLoop, shop, type ExecutorResult, type HttpClient } from '@tracemart/loadgen';

/** What the load saw in one window (a fault, from its injection to its recovery; or the steady time between). */
export interface AnswerCounts {
  /** Every answer to POST /api/orders, by status (0: no answer: refused, reset, timed out). */
  byStatus: Record<string, number>;
  /** 5xx answers, 503 included. */
  serverErrors: number;
  unavailable: number;
  noAnswer: number;
  /** Checkouts that got no order after every try (answered neither 202 nor anything retriable in time). */
  checkoutsFailed: number;
}

const emptyCounts = (): AnswerCounts => ({ byStatus: {}, serverErrors: 0, unavailable: 0, noAnswer: 0, checkoutsFailed: 0 });

export interface LoadOptions {
  customers: number;
  /** Between one customer's checkouts. */
  thinkMs: number;
  /** Tries of one checkout with one Idempotency-Key (no answer, a 5xx, a 429 or a 409 in progress are tried again). */
  tries: number;
  /** A bound only: the load runs until `stop()`. */
  maxDurationS: number;
}

/**
 * Steady checkout load through the gateway, as the failover drills make it: a few customers placing orders without
 * pause, each checkout keyed and retried (shop.checkoutWithRetries), every answer counted in the current window.
 */
export class CheckoutLoad {
  /** The order ids the gateway answered 202 with. */
  readonly accepted = new Set<string>();
  readonly windows = new Map<string, AnswerCounts>();
  /** Checkouts started and not yet answered for good (no 202 yet, tries left). */
  outstanding = 0;
  private window = 'warm-up';
  private readonly controller = new AbortController();
  private running: Promise<ExecutorResult> | undefined;

  constructor(
    private readonly client: HttpClient,
    private readonly customer: shop.Shop,
    private readonly pool: shop.PoolUser[],
    private readonly products: shop.Product[],
    private readonly options: LoadOptions,
  ) {}

  /** Answers from now on count in `name` (a fault's id and repeat, `steady`). */
  setWindow(name: string): void {
    this.window = name;
  }

  countsIn(name: string): AnswerCounts {
    return this.windows.get(name) ?? emptyCounts();
  }

  start(): void {
    this.running = closedLoop({
      vus: this.options.customers,
      durationS: this.options.maxDurationS,
      gracefulStopS: 15,
      maxIterationsPerVu: 1_000_000,
      signal: this.controller.signal,
      iteration: async ({ vu, signal }) => {
        const session = shop.sessionFor(this.customer, this.pool, vu);
        const body = { items: shop.randomItems(this.products), paymentToken: Math.random() < 0.1 ? 'tok_chargeDeclined' : 'tok_visa' };
        let unauthorised = false;
        this.outstanding += 1;
        try {
          const id = await shop.checkoutWithRetries(this.client, session.token, body, {
            tries: this.options.tries,
            signal,
            onAnswer: (status) => {
              this.count(status);
              if (status === 401) unauthorised = true;
            },
          });
          if (id) this.accepted.add(id);
          else this.counts().checkoutsFailed += 1;
        } finally {
          this.outstanding -= 1;
        }
        // The session's token expired (JWT_TTL_SECONDS): log in again, once the user service answers.
        if (unauthorised) await session.refresh();
        await sleep(this.options.thinkMs, undefined, { signal });
      },
    });
  }

  async stop(): Promise<ExecutorResult | undefined> {
    this.controller.abort();
    return this.running;
  }

  /** Every window's counts added up. */
  total(): AnswerCounts {
    const sum = emptyCounts();
    for (const counts of this.windows.values()) {
      for (const [status, n] of Object.entries(counts.byStatus)) sum.byStatus[status] = (sum.byStatus[status] ?? 0) + n;
      sum.serverErrors += counts.serverErrors;
      sum.unavailable += counts.unavailable;
      sum.noAnswer += counts.noAnswer;
      sum.checkoutsFailed += counts.checkoutsFailed;
    }
    return sum;
  }

  private counts(): AnswerCounts {
    let counts = this.windows.get(this.window);
    if (!counts) {
      counts = emptyCounts();
      this.windows.set(this.window, counts);
    }
    return counts;
  }

  private count(status: number): void {
    const counts = this.counts();
    counts.byStatus[String(status)] = (counts.byStatus[String(status)] ?? 0) + 1;
    if (status >= 500) counts.serverErrors += 1;
    if (status === 503) counts.unavailable += 1;
    if (status === 0) counts.noAnswer += 1;
  }
}
