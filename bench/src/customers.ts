import { HttpClient, MetricStore, closedLoop, shop as shopApi } from '@tracemart/loadgen';
import type { Fixture, TrendValues } from './load';

/**
 * Closed-loop customers: `customers` virtual shoppers, each looping for `durationS` through a whole visit:
 * GET a page of products, GET one product, POST /api/orders (Idempotency-Key), then poll GET /api/orders/:id
 * until CONFIRMED or CANCELLED (the loadgen shop's checkout, 250 ms steps, up to `pollBudgetS`). Every
 * response is counted by status; circuit breaker openings are read from each process's /metrics
 * (`tracemart.breaker.transitions`, to="open") before and after.
 */

/** The request names of one visit, as the loadgen shop names them. */
export const VISIT_REQUESTS = ['GET /api/products', 'GET /api/products/:id', 'POST /api/orders', 'GET /api/orders/:id'] as const;
export type VisitRequest = (typeof VISIT_REQUESTS)[number];

export interface StatusCounts {
  total: number;
  '2xx': number;
  '3xx': number;
  '4xx': number;
  '5xx': number;
  /** No answer at all (connection error or client timeout). */
  none: number;
  /** Shed load, also counted in their class: 429 in 4xx, 503 in 5xx. */
  '429': number;
  '503': number;
}

export interface CustomersRun {
  customers: number;
  durationS: number;
  /** Visits begun; visits that threw (not counting those aborted at the graceful stop). */
  visits: number;
  failedVisits: number;
  errors: string[];
  /** POST /api/orders answered (any status), and answered 202. */
  placed: number;
  accepted: number;
  confirmed: number;
  cancelled: number;
  /** Accepted orders not seen CONFIRMED/CANCELLED within `terminalBudgetS` of placement (never, or later). */
  notTerminalInBudget: number;
  terminalBudgetS: number;
  /** Placement (POST sent) → terminal status seen by polling, accepted orders that got there. */
  timeToTerminal: TrendValues | undefined;
  responses: StatusCounts;
  byStatus: Record<string, number>;
  latency: Partial<Record<VisitRequest, TrendValues>>;
}

/** Responses by status class from status → count. */
export function statusCounts(byStatus: Record<string, number>): StatusCounts {
  const counts: StatusCounts = { total: 0, '2xx': 0, '3xx': 0, '4xx': 0, '5xx': 0, none: 0, '429': 0, '503': 0 };
  for (const [status, n] of Object.entries(byStatus)) {
    const code = Number(status);
    counts.total += n;
    if (code >= 200 && code < 600) counts[`${Math.floor(code / 100)}xx` as '2xx' | '3xx' | '4xx' | '5xx'] += n;
    else counts.none += n;
    if (code === 429) counts['429'] += n;
    if (code === 503) counts['503'] += n;
  }
  return counts;
}

function stockPicker(fixture: Fixture): () => string {
  const total = fixture.products.reduce((sum, p) => sum + p.weight, 0);
  return () => {
    let roll = Math.random() * total;
    for (const p of fixture.products) if ((roll -= p.weight) < 0) return p.id;
    const last = fixture.products[fixture.products.length - 1];
    if (!last) throw new Error('fixture has no product in stock');
    return last.id;
  };
}

/** Runs the customers; `fixture.users` should hold one user per customer (they are reused round-robin). */
export async function runCustomers(options: {
  baseUrl: string;
  fixture: Fixture;
  customers: number;
  durationS: number;
  terminalBudgetS: number;
  pollBudgetS: number;
}): Promise<CustomersRun> {
  const metrics = new MetricStore();
  const http = new HttpClient(options.baseUrl, metrics);
  const intervalS = 0.25;
  const shop: shopApi.Shop = { http, metrics, adminToken: '', poll: { tries: Math.ceil(options.pollBudgetS / intervalS), intervalS, inProgressRetries: 3 }, log: () => undefined };
  const pickProduct = stockPicker(options.fixture);
  const pages = Math.max(1, Math.ceil(options.fixture.products.length / 20));
  let withinBudget = 0;
  try {
    const run = await closedLoop({
      vus: options.customers,
      durationS: options.durationS,
      gracefulStopS: options.pollBudgetS + 15,
      iteration: async ({ vu, signal }) => {
        const user = options.fixture.users[(vu - 1) % options.fixture.users.length];
        if (!user) throw new Error('fixture has no user');
        const productId = pickProduct();
        await http.get(`/api/products?limit=20&page=${1 + Math.floor(Math.random() * pages)}`, { name: 'GET /api/products', kind: 'browse', expected: [200] });
        await http.get(`/api/products/${encodeURIComponent(productId)}`, { name: 'GET /api/products/:id', kind: 'view', expected: [200] });
        const session: shopApi.Session = { token: user.token, refresh: () => Promise.resolve(null) };
        const started = performance.now();
        const result = await shopApi.checkout(shop, session, { items: [{ productId, quantity: 1 }], signal, recordSuccess: false });
        const elapsedMs = performance.now() - started;
        const status = result.order?.status;
        if (result.res.status !== 202 || (status !== 'CONFIRMED' && status !== 'CANCELLED')) return;
        metrics.trend('bench_customer_time_to_terminal', elapsedMs);
        metrics.counter('bench_customer_terminal', 1, { status });
        if (elapsedMs <= options.terminalBudgetS * 1000) withinBudget += 1;
      },
    });
    const byStatus = Object.fromEntries(metrics.tagValues('http_reqs', 'status').map((s) => [s, metrics.count(`http_reqs{status:${s}}`)]));
    const accepted = metrics.count('http_reqs{name:POST /api/orders,status:202}');
    const latency: Partial<Record<VisitRequest, TrendValues>> = {};
    for (const name of VISIT_REQUESTS) {
      const stats = metrics.trendStats(`http_req_duration{name:${name}}`);
      if (stats) latency[name] = stats;
    }
    return {
      customers: options.customers,
      durationS: options.durationS,
      visits: run.started,
      failedVisits: run.failed,
      errors: run.errors,
      placed: metrics.trendStats('http_req_duration{name:POST /api/orders}')?.count ?? 0,
      accepted,
      confirmed: metrics.count('bench_customer_terminal{status:CONFIRMED}'),
      cancelled: metrics.count('bench_customer_terminal{status:CANCELLED}'),
      notTerminalInBudget: accepted - withinBudget,
      terminalBudgetS: options.terminalBudgetS,
      timeToTerminal: metrics.trendStats('bench_customer_time_to_terminal'),
      responses: statusCounts(byStatus),
      byStatus,
      latency,
    };
  } finally {
    await http.close();
  }
}

/** Breaker openings so far by upstream, from one /metrics text; undefined when it exports no breaker state. */
export function breakerOpenings(metricsText: string): Map<string, number> | undefined {
  if (!/^tracemart_breaker_state[{\s]/m.test(metricsText)) return undefined;
  const openings = new Map<string, number>();
  for (const match of metricsText.matchAll(/^tracemart_breaker_transitions_total\{([^}]*)\}\s+(\S+)/gm)) {
    const labels = match[1] ?? '';
    if (!/(^|,)\s*to="open"/.test(labels)) continue;
    const upstream = /upstream="([^"]*)"/.exec(labels)?.[1] ?? '?';
    openings.set(upstream, (openings.get(upstream) ?? 0) + Number(match[2]));
  }
  return openings;
}

export interface BreakerScrape {
  /** Processes that export breaker metrics. */
  watched: string[];
  /** Openings so far, by "process → upstream". */
  openings: Record<string, number>;
}

/** Breaker openings so far over every process of `urls` (name → base URL) that exports breakers. */
export async function scrapeBreakers(urls: Record<string, string>): Promise<BreakerScrape> {
  const scrape: BreakerScrape = { watched: [], openings: {} };
  const texts = await Promise.all(
    Object.entries(urls).map(async ([process, url]) => [process, await (await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(5_000) })).text()] as const),
  );
  for (const [process, text] of texts) {
    const openings = breakerOpenings(text);
    if (!openings) continue;
    scrape.watched.push(process);
    for (const [upstream, n] of openings) scrape.openings[`${process} → ${upstream}`] = n;
  }
  return scrape;
}

export interface BreakerOpenings {
  watched: string[];
  total: number;
  /** Only the breakers that opened, by "process → upstream". */
  byBreaker: Record<string, number>;
}

/** Openings between two scrapes of the same processes (a counter missing before had not counted yet). */
export function openingsBetween(before: BreakerScrape, after: BreakerScrape): BreakerOpenings {
  const byBreaker: Record<string, number> = {};
  for (const [key, n] of Object.entries(after.openings)) {
    const opened = n - (before.openings[key] ?? 0);
    if (opened > 0) byBreaker[key] = opened;
  }
  return { watched: after.watched, total: Object.values(byBreaker).reduce((sum, n) => sum + n, 0), byBreaker };
}
