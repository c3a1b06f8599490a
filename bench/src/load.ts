import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { HttpClient, MetricStore, constantArrivalRate, json, runStream, sleep, type StreamRequest, type TrendStats } from '@tracemart/loadgen';
import { IDENTITY_HEADER, signIdentityAssertion } from '@tracemart/platform';

/**
 * The benchmark's load, driven by the Node harness (@tracemart/loadgen) inside this process:
 *   checkout steps  open model (constant arrival rate) of whole checkouts: POST /api/orders, then polling
 *                   GET /api/orders/:id until CONFIRMED or CANCELLED within the poll budget (undici);
 *   comparisons     the same GET through the gateway and straight to the service, two paced autocannon
 *                   streams at the same rate, side by side;
 *   catalog reads   a closed-loop autocannon stream (list page, one product, its stock).
 * Latencies go into HDR histograms (hdr-histogram-js); TrendValues keeps the k6 summary's names so the
 * report reads as before.
 */

export type TrendValues = TrendStats;

/** The load generator's name in usage windows: the benchmark process itself, which runs the harness. */
export const LOADGEN = 'loadgen';

export interface Fixture {
  users: { id: string; token: string }[];
  /** Products with the units in stock as weight: orders spread in proportion to what each can still sell. */
  products: { id: string; weight: number }[];
}

/** "autocannon 9.0.0, undici 7.x, hdr-histogram-js 3.x (in-process)", for the report's machine line. */
export function loadgenVersion(): string {
  const version = (name: string) => {
    try {
      const main = require.resolve(name);
      let dir = dirname(main);
      for (let i = 0; i < 5; i++) {
        try {
          const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
          if (pkg.name === name) return `${name} ${pkg.version ?? '?'}`;
        } catch {
          // not this folder
        }
        dir = dirname(dir);
      }
    } catch {
      // not installed
    }
    return name;
  };
  return `${version('autocannon')}, ${version('undici')}, ${version('hdr-histogram-js')} (load harness in the benchmark process)`;
}

function picker(fixture: Fixture): () => string {
  let total = 0;
  const cumulative = fixture.products.map((p) => ({ id: p.id, upTo: (total += p.weight) }));
  return () => {
    const roll = Math.random() * total;
    const hit = cumulative.find((entry) => roll < entry.upTo) ?? cumulative[cumulative.length - 1];
    if (!hit) throw new Error('fixture has no product in stock');
    return hit.id;
  };
}

const pickUser = (fixture: Fixture) => {
  const user = fixture.users[Math.floor(Math.random() * fixture.users.length)];
  if (!user) throw new Error('fixture has no user');
  return user;
};

export interface CheckoutStep {
  /** POST /api/orders answered (any status). */
  posted: number;
  accepted: number;
  rejected: number;
  errors: number;
  /** Arrivals that found every VU busy (responses too slow for the rate). */
  dropped: number;
  /** Accepted orders that reached CONFIRMED or CANCELLED within the poll budget. */
  completed: { rate: number; passes: number; fails: number } | undefined;
  post: TrendValues | undefined;
  timeToTerminal: TrendValues | undefined;
  elapsedS: number;
}

/**
 * Checkouts at `ratePerS` for `durationS` (open model), each followed to a terminal status by polling every
 * `pollIntervalS` for up to `pollBudgetS`, as the k6 script it replaces did: same VU limits and graceful stop.
 */
export async function runCheckoutStep(options: {
  baseUrl: string;
  fixture: Fixture;
  ratePerS: number;
  durationS: number;
  pollBudgetS: number;
  pollIntervalS?: number;
}): Promise<CheckoutStep> {
  const metrics = new MetricStore();
  const http = new HttpClient(options.baseUrl, metrics);
  const pickProduct = picker(options.fixture);
  const pollMs = (options.pollIntervalS ?? 0.25) * 1000;
  try {
    const run = await constantArrivalRate({
      ratePerS: options.ratePerS,
      durationS: options.durationS,
      maxVUs: Math.ceil(options.ratePerS * (options.pollBudgetS + 2)) + 10,
      gracefulStopS: options.pollBudgetS + 2,
      iteration: async ({ signal }) => {
        const user = pickUser(options.fixture);
        const started = performance.now();
        const res = await http.post(
          '/api/orders',
          { items: [{ productId: pickProduct(), quantity: 1 }], paymentToken: 'tok_visa' },
          {
            name: 'POST /api/orders',
            kind: 'checkout',
            token: user.token,
            headers: { 'idempotency-key': randomUUID() },
            expected: [202],
          },
        );
        if (res.status !== 202) {
          metrics.counter('bench_outcomes', 1, { outcome: res.status === 429 || res.status === 503 ? 'rejected' : 'error' });
          return;
        }
        metrics.counter('bench_outcomes', 1, { outcome: 'accepted' });
        const id = json<{ id?: string }>(res)?.id ?? '';
        const deadline = started + options.pollBudgetS * 1000;
        while (performance.now() < deadline) {
          await sleep(pollMs, signal);
          const poll = await http.get(`/api/orders/${encodeURIComponent(id)}`, { name: 'GET /api/orders/:id', kind: 'order-read', token: user.token, expected: [200, 404] });
          const status = poll.status === 200 ? json<{ status?: string }>(poll)?.status : undefined;
          if (status === 'CONFIRMED' || status === 'CANCELLED') {
            metrics.trend('bench_time_to_terminal', performance.now() - started);
            metrics.rate('bench_completed', true);
            metrics.counter('bench_outcomes', 1, { outcome: status === 'CONFIRMED' ? 'confirmed' : 'cancelled' });
            return;
          }
        }
        metrics.rate('bench_completed', false);
      },
    });
    const post = metrics.trendStats('http_req_duration{name:POST /api/orders}');
    return {
      posted: post?.count ?? 0,
      accepted: metrics.count('bench_outcomes{outcome:accepted}'),
      rejected: metrics.count('bench_outcomes{outcome:rejected}'),
      errors: metrics.count('bench_outcomes{outcome:error}'),
      dropped: run.dropped,
      completed: metrics.rateStats('bench_completed'),
      post,
      timeToTerminal: metrics.trendStats('bench_time_to_terminal'),
      elapsedS: run.elapsedS,
    };
  } finally {
    await http.close();
  }
}

export interface Comparison {
  gateway: TrendValues | undefined;
  direct: TrendValues | undefined;
  failed: { gateway: number; direct: number };
}

/**
 * Gateway overhead: the same request through the gateway and straight to the service, as two paced streams
 * at the same low rate at the same time (so both see the same machine), as the k6 script it replaces did.
 *   get:    GET /api/products?limit=20 (gateway) vs GET /products?limit=20 (catalog)
 *   orders: GET /api/orders with a JWT (gateway) vs GET /orders with the gateway's identity assertion (order service)
 */
export async function runComparison(options: {
  mode: 'get' | 'orders';
  gatewayUrl: string;
  directUrl: string;
  fixture: Fixture;
  ratePerS: number;
  durationS: number;
  /** The stack's INTERNAL_AUTH_SECRET: the direct orders stream signs what the gateway would (mode `orders`). */
  internalAuthSecret?: string;
}): Promise<Comparison> {
  const metrics = new MetricStore();
  const identities = options.mode === 'orders' ? presignedIdentities(options) : [];
  let nextIdentity = 0;
  const viaGateway = (): StreamRequest => {
    if (options.mode === 'get') return { name: 'GET /api/products', path: '/api/products?limit=20', expected: [200] };
    return { name: 'GET /api/orders', path: '/api/orders', headers: { authorization: `Bearer ${pickUser(options.fixture).token}` }, expected: [200] };
  };
  const direct = (): StreamRequest => {
    if (options.mode === 'get') return { name: 'GET /products', path: '/products?limit=20', expected: [200] };
    // One assertion per request, made beforehand (a stream's next request is chosen synchronously): the service
    // verifies each as it would the gateway's, none from its cache of verified ones.
    const headers = identities[nextIdentity++ % identities.length];
    return { name: 'GET /orders', path: '/orders', ...(headers ? { headers } : {}), expected: [200] };
  };
  await Promise.all([
    runStream({ baseUrl: options.gatewayUrl, metrics, tags: { target: 'gateway' }, ratePerS: options.ratePerS, durationS: options.durationS, next: viaGateway }),
    runStream({ baseUrl: options.directUrl, metrics, tags: { target: 'direct' }, ratePerS: options.ratePerS, durationS: options.durationS, next: direct }),
  ]);
  return {
    gateway: metrics.trendStats('http_req_duration{target:gateway}'),
    direct: metrics.trendStats('http_req_duration{target:direct}'),
    failed: { gateway: metrics.rateStats('http_req_failed{target:gateway}')?.passes ?? 0, direct: metrics.rateStats('http_req_failed{target:direct}')?.passes ?? 0 },
  };
}

/**
 * The headers the gateway sends the order service for a random fixture user, one set per request of the direct stream
 * (and some to spare): a request id and an identity assertion made for it, valid for the whole stream.
 */
function presignedIdentities(options: { fixture: Fixture; ratePerS: number; durationS: number; internalAuthSecret?: string }): Record<string, string>[] {
  const secret = options.internalAuthSecret;
  if (!secret) throw new Error('the orders comparison needs the stack internalAuthSecret to call the order service as a user');
  const count = Math.ceil(options.ratePerS * options.durationS) + 20;
  const ttlSeconds = Math.ceil(options.durationS) + 60;
  return Array.from({ length: count }, () => {
    const requestId = randomUUID();
    return { 'x-request-id': requestId, [IDENTITY_HEADER]: signIdentityAssertion({ sub: pickUser(options.fixture).id, requestId }, secret, ttlSeconds) };
  });
}

export interface Reads {
  rps: number;
  failed: number;
  latency: TrendValues | undefined;
}

/** Catalog read throughput through the gateway, closed model: `connections` clients, each sending its next request when the last is answered. */
export async function runReads(options: { baseUrl: string; fixture: Fixture; connections: number; durationS: number }): Promise<Reads> {
  const metrics = new MetricStore();
  const pickProduct = picker(options.fixture);
  const turns = new Map<number, number>();
  const result = await runStream({
    baseUrl: options.baseUrl,
    metrics,
    tags: {},
    connections: options.connections,
    durationS: options.durationS,
    next: (connection) => {
      const turn = turns.get(connection) ?? 0;
      turns.set(connection, turn + 1);
      const id = pickProduct();
      if (turn % 3 === 0) return { name: 'list', path: `/api/products?limit=20&page=${1 + (turn % 3)}`, expected: [200] };
      if (turn % 3 === 1) return { name: 'product', path: `/api/products/${encodeURIComponent(id)}`, expected: [200] };
      return { name: 'stock', path: `/api/inventory/${encodeURIComponent(id)}`, expected: [200] };
    },
  });
  return { rps: result.answeredInDuration / options.durationS, failed: metrics.rateStats('http_req_failed')?.rate ?? 0, latency: metrics.trendStats('http_req_duration') };
}
