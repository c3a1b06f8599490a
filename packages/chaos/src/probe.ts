import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { json, shop, type HttpClient } from '@tracemart/loadgen';

/** One checkout of the probe, start to end. */
export interface ProbeResult {
  ok: boolean;
  /** The order id the gateway answered 202 with (an accepted order, for the invariants), if any. */
  orderId?: string;
  startedAt: number;
  endedAt: number;
  /** `CONFIRMED`, `HTTP 503`, `CANCELLED SAGA_TIMEOUT`, `PENDING after 15000 ms`, ... */
  detail: string;
}

export interface ProbeOptions {
  /** How long the accepted order may take to turn CONFIRMED before this try counts as failed. */
  terminalTimeoutMs: number;
  pollMs: number;
  requestTimeoutMs: number;
}

export const DEFAULT_PROBE: ProbeOptions = { terminalTimeoutMs: 15_000, pollMs: 200, requestTimeoutMs: 5_000 };

/**
 * A checkout through the gateway, end to end: POST /api/orders (one unit of a product kept aside for the probe, so
 * the load never sells it out), then its order read back until CONFIRMED, which takes every service of the saga
 * (order, inventory, payment; notification is told after). The probe's customer is not one of the load's.
 */
export class CheckoutProbe {
  /** Every order the probe had accepted: the invariant checker expects them stored and terminal too. */
  readonly accepted = new Set<string>();
  private next = 0;

  constructor(
    private readonly client: HttpClient,
    private readonly session: shop.Session,
    private readonly products: readonly shop.Product[],
    private readonly options: ProbeOptions = DEFAULT_PROBE,
  ) {
    if (products.length === 0) throw new Error('the probe needs at least one product');
  }

  async once(signal?: AbortSignal): Promise<ProbeResult> {
    const startedAt = Date.now();
    const product = this.products[this.next++ % this.products.length] as shop.Product;
    const body = { items: [{ productId: product.id, quantity: 1 }], paymentToken: 'tok_visa' };
    const key = randomUUID();
    const post = () =>
      this.client.post('/api/orders', body, {
        name: 'POST /api/orders',
        kind: 'probe',
        token: this.session.token,
        headers: { 'idempotency-key': key },
        expected: [202],
        timeoutMs: this.options.requestTimeoutMs,
      });
    let res = await post();
    if (res.status === 401 && (await this.session.refresh())) res = await post();
    const orderId = res.status === 202 ? json<{ id?: string }>(res)?.id : undefined;
    const done = (ok: boolean, detail: string): ProbeResult => ({ ok, ...(orderId ? { orderId } : {}), startedAt, endedAt: Date.now(), detail });
    const code = json<{ error?: { code?: string } }>(res)?.error?.code;
    if (!orderId) return done(false, `HTTP ${res.status}${code ? ` ${code}` : ''}${res.error ? ` ${res.error}` : ''}`);
    this.accepted.add(orderId);
    const deadline = startedAt + this.options.terminalTimeoutMs;
    let status = 'PENDING';
    for (let poll = 0; poll < 10_000 && Date.now() < deadline; poll++) {
      await sleep(this.options.pollMs, undefined, signal ? { signal } : {});
      const read = await this.client.get(`/api/orders/${encodeURIComponent(orderId)}`, {
        name: 'GET /api/orders/:id',
        kind: 'probe',
        token: this.session.token,
        expected: [200, 404],
        timeoutMs: this.options.requestTimeoutMs,
      });
      const order = read.status === 200 ? json<shop.Order>(read) : null;
      if (!order || order.status === 'PENDING') continue;
      status = order.status;
      if (status === 'CONFIRMED') return done(true, status);
      return done(false, `${status} ${typeof order.reason === 'string' ? order.reason : JSON.stringify(order.reason ?? '')}`);
    }
    return done(false, `${status} after ${this.options.terminalTimeoutMs} ms`);
  }
}
