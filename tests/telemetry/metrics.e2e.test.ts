import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { EventBus, createLogger } from '@tracemart/platform';
import { STACK_METRICS_JOB, startStack, type ProcessName, type Stack } from '@tracemart/stack';
import { apiClient, signUp, type ApiClient, eventually, repoRoot } from '@tracemart/testing';
import { instantQuery, parseExposition, stripThresholds, total, type Sample } from './prometheus-api';

/**
 * The numbers an operator reads are the numbers of what happened: known traffic is driven through the
 * gateway, then each process's /metrics and then Prometheus (with the repo's own rules) are read back,
 * and every PromQL expression of every dashboard, recording rule and alert must return data.
 */

interface Order {
  id: string;
  status: 'PENDING' | 'CONFIRMED' | 'CANCELLED';
  totalCents: number;
  reason?: string;
}
interface Product {
  id: string;
  priceCents: number;
}
interface Rule {
  record?: string;
  alert?: string;
  expr: string;
}

const PROCESSES: ProcessName[] = ['gateway', 'user', 'catalog', 'order', 'inventory', 'payment', 'notification'];
/**
 * Made from spans, not scraped: span metrics by the Collector's spanmetrics connector, the service graph by
 * Tempo's metrics-generator (both remote-written to Prometheus). This stack exports no spans, so the span-metric
 * panels are checked through a real Collector in tests/telemetry/backends.e2e.test.ts instead.
 */
const SPAN_DERIVED = /\btraces_(service_graph|spanmetrics)_/;

let stack: Stack;
let dataDir: string;
let api: ApiClient;
let shopper: Awaited<ReturnType<typeof signUp>>;
let products: Product[];
const prometheusUrl = (): string => stack.prometheusUrl ?? '';

const terminal = (client: ApiClient, id: string, timeoutMs = 30_000) =>
  eventually(
    async () => (await client.get<Order>(`/api/orders/${id}`)).body,
    (order) => order.status !== 'PENDING',
    timeoutMs,
  );

async function place(client: ApiClient, productId: string, paymentToken: string): Promise<Order> {
  const placed = await client.post<Order>('/api/orders', { items: [{ productId, quantity: 1 }], paymentToken });
  expect(placed.status, JSON.stringify(placed.body)).toBe(202);
  return terminal(client, placed.body.id);
}

async function scrapeAll(): Promise<Sample[]> {
  const all = await Promise.all(
    PROCESSES.map(async (name) => {
      // The gateway serves metrics on its METRICS_PORT listener only; the services on their own ports.
      const response = await fetch(`${stack.metricsUrls[name]}/metrics`, { signal: AbortSignal.timeout(5_000) });
      expect(response.status, `${name} /metrics`).toBe(200);
      return parseExposition(await response.text()).map((s) => ({ ...s, labels: { ...s.labels, process: name } }));
    }),
  );
  return all.flat();
}

async function inject(fault: Record<string, unknown>): Promise<void> {
  const answer = await api.post('/admin/faults', fault, { 'x-admin-token': stack.adminToken });
  expect(answer.status, JSON.stringify(answer.body)).toBe(201);
}

function ruleFiles(): { file: string; rules: Rule[] }[] {
  const dir = join(repoRoot, 'observability', 'prometheus', 'rules');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yml'))
    .map((file) => ({ file, rules: (parse(readFileSync(join(dir, file), 'utf8')) as { groups: { rules: Rule[] }[] }).groups.flatMap((g) => g.rules) }));
}

/** Runs each query until all return at least one series, or the bound passes; returns the ones still empty. */
async function emptyAfterPolling(queries: { label: string; alternatives: string[] }[], timeoutMs: number): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  let pending = queries;
  for (;;) {
    const still: typeof queries = [];
    for (const q of pending) {
      let found = false;
      for (const query of q.alternatives) {
        if ((await instantQuery(prometheusUrl(), query)).length > 0) {
          found = true;
          break;
        }
      }
      if (!found) still.push(q);
    }
    pending = still;
    if (pending.length === 0 || Date.now() > deadline) return pending.map((q) => `${q.label}\n    ${q.alternatives[0]}`);
    await new Promise((r) => setTimeout(r, 2_500));
  }
}

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'tracemart-telemetry-metrics-'));
  stack = await startStack({
    root: repoRoot,
    dataDir,
    freePorts: true,
    prometheus: true,
    readyTimeoutMs: 120_000,
    env: { LOG_LEVEL: 'info' },
    // Small enough for the burst below to trip the rate limiter and a bulkhead; large enough for the
    // business traffic, which is sequential.
    envFor: { gateway: { RATE_LIMIT_PER_SECOND: '20', RATE_LIMIT_BURST: '40', BULKHEAD_MAX_CONCURRENT: '8', BULKHEAD_MAX_QUEUE: '0' } },
  });
  api = apiClient(stack.gatewayUrl);
  shopper = await signUp(api, 'Metra');
  products = (await api.get<{ items: Product[] }>('/api/products?limit=20')).body.items;
});

afterAll(async () => {
  await stack?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

describe('business counters on /metrics', () => {
  it('when 2 orders confirm, 1 is declined and 1 request is malformed, then the counters say exactly that', async () => {
    const first = await place(shopper.client, (products[1] as Product).id, 'tok_visa');
    const second = await place(shopper.client, (products[2] as Product).id, 'tok_visa');
    const third = await place(shopper.client, (products[3] as Product).id, 'tok_chargeDeclined');
    expect([first.status, second.status]).toEqual(['CONFIRMED', 'CONFIRMED']);
    expect(third).toMatchObject({ status: 'CANCELLED', reason: 'PAYMENT_DECLINED' });
    const malformed = await shopper.client.post('/api/orders', '{"items": [');
    expect(malformed.status).toBe(400);

    const expected = {
      placed: 3,
      confirmed: 2,
      declined: 1,
      revenue: first.totalCents + second.totalCents,
      charged: 2,
    };
    const read = (samples: Sample[]) => ({
      placed: total(samples, 'tracemart_orders_placed_total'),
      confirmed: total(samples, 'tracemart_orders_confirmed_total'),
      declined: total(samples, 'tracemart_orders_cancelled_total', { reason: 'PAYMENT_DECLINED' }),
      revenue: total(samples, 'tracemart_revenue_total'),
      charged: total(samples, 'tracemart_payments_total', { outcome: 'charged' }),
    });
    const samples = await eventually(scrapeAll, (s) => JSON.stringify(read(s)) === JSON.stringify(expected), 15_000).catch(async () => scrapeAll());
    expect(read(samples)).toEqual(expected);
    expect(total(samples, 'tracemart_orders_cancelled_total')).toBe(1);
    expect(total(samples, 'tracemart_payments_total', { outcome: 'declined' })).toBe(1);
    // The business counters live where the decision is made, once: not in every process.
    expect(new Set(samples.filter((s) => s.name === 'tracemart_orders_placed_total').map((s) => s.labels.process))).toEqual(new Set(['order']));
    // The refused request is counted as a 400 at the edge and never reached the order service.
    const gatewayHttp = samples.filter((s) => s.labels.process === 'gateway' && s.name === 'http_server_request_duration_count');
    expect(
      gatewayHttp.filter((s) => s.labels.http_request_method === 'POST' && s.labels.http_response_status_code === '400').reduce((n, s) => n + s.value, 0),
    ).toBeGreaterThanOrEqual(1);
  });
});

describe('Prometheus scraping the local stack', () => {
  it('when it has scraped, then every process is a target and every target is up', async () => {
    const targets = await eventually(
      async () => {
        const response = await fetch(`${prometheusUrl()}/api/v1/targets`);
        const body = (await response.json()) as { data: { activeTargets: { labels: { job: string }; health: string; lastError: string }[] } };
        return body.data.activeTargets;
      },
      // Every process, and the stack itself (its supervisor's restart counter).
      (active) => active.length === PROCESSES.length + 1 && active.every((t) => t.health === 'up'),
      30_000,
    );
    expect(targets.map((t) => t.labels.job).sort()).toEqual([...PROCESSES, STACK_METRICS_JOB].sort());
  });

  it("when the gateway's public port is asked for /metrics, then 404, and Prometheus scrapes the gateway's metrics listener", async () => {
    const publicAnswer = await fetch(`${stack.gatewayUrl}/metrics`, { signal: AbortSignal.timeout(5_000) });
    expect(publicAnswer.status).toBe(404);
    expect(await publicAnswer.text()).not.toContain('# HELP');
    const response = await fetch(`${prometheusUrl()}/api/v1/targets`);
    const body = (await response.json()) as { data: { activeTargets: { labels: { job: string }; scrapeUrl: string; health: string }[] } };
    const gateway = body.data.activeTargets.find((t) => t.labels.job === 'gateway');
    expect(gateway?.scrapeUrl).toBe(`${stack.metricsUrls.gateway}/metrics`);
    expect(stack.metricsUrls.gateway).not.toBe(stack.gatewayUrl);
  });

  it('when it loads the repo rules, then every group and rule is healthy', async () => {
    const response = await fetch(`${prometheusUrl()}/api/v1/rules`);
    const body = (await response.json()) as { data: { groups: { name: string; rules: { name: string; health: string; lastError?: string }[] }[] } };
    const loaded = body.data.groups.flatMap((g) => g.rules);
    const declared = ruleFiles().flatMap((f) => f.rules);
    expect(loaded).toHaveLength(declared.length);
    const unhealthy = await eventually(
      async () => {
        const again = (await (await fetch(`${prometheusUrl()}/api/v1/rules`)).json()) as typeof body;
        return again.data.groups.flatMap((g) => g.rules).filter((r) => r.health !== 'ok');
      },
      (bad) => bad.length === 0,
      20_000,
    ).catch((err: Error) => [err.message]);
    expect(unhealthy).toEqual([]);
  });

  it('when checkouts have only succeeded, then the availability SLI is a 0 error ratio, not missing', async () => {
    // An SLI that is absent while everything is fine shows "No data" on the overview and cannot be
    // told apart from a broken scrape.
    // A checkout Prometheus sees happen (the earlier ones may predate its first scrape, so their
    // counter never visibly increases and the ratio would be 0/0).
    expect((await place(shopper.client, (products[6] as Product).id, 'tok_visa')).status).toBe('CONFIRMED');
    const [series] = await eventually(
      () => instantQuery(prometheusUrl(), 'slo:checkout_availability:error_ratio_rate5m'),
      (result) => result.length > 0 && !Number.isNaN(Number(result[0]?.value[1])),
      45_000,
    ).catch(async () => [] as Awaited<ReturnType<typeof instantQuery>>);
    expect(series, 'slo:checkout_availability:error_ratio_rate5m has no series').toBeDefined();
    expect(Number(series?.value[1])).toBe(0);
    const perJob = await eventually(
      () => instantQuery(prometheusUrl(), 'job:http_server_request_errors:ratio_rate5m{job="order"}'),
      (result) => result.length > 0 && !Number.isNaN(Number(result[0]?.value[1])),
      30_000,
    ).catch(() => instantQuery(prometheusUrl(), 'job:http_server_request_errors:ratio_rate5m{job="order"}'));
    expect(
      perJob.map((r) => Number(r.value[1])),
      'job:http_server_request_errors:ratio_rate5m for a job without 5xx',
    ).toEqual([0]);
  });
});

describe('every dashboard, recording rule and alert expression', () => {
  beforeAll(async () => {
    // A burst that makes every mechanism the dashboards show fire at least once.
    // A fault that stays active while the expressions are read (the dashboards' fault annotations).
    await inject({ service: 'notification', kind: 'latency', latencyMs: 1, route: '/never-called', durationSeconds: 300 });
    // One more decline, one more rejection (before the payment outage below: while payment is unavailable
    // the gateway answers every checkout with a fast 503, valid or not).
    expect((await place(shopper.client, (products[5] as Product).id, 'tok_chargeDeclined')).status).toBe('CANCELLED');
    expect((await shopper.client.post('/api/orders', { items: 'many', paymentToken: 'tok_visa' })).status).toBe(400);
    // The card processor goes away for a while: processor retries, nak and redelivery, then the order confirms.
    // The outage goes in first, so the charge cannot slip through before it; no charge has failed yet, so
    // payment's breaker is still closed and the gateway accepts the checkout.
    await inject({ service: 'payment', kind: 'outage', route: '/processor', durationSeconds: 3 });
    const delayed = await shopper.client.post<Order>('/api/orders', { items: [{ productId: (products[4] as Product).id, quantity: 1 }], paymentToken: 'tok_visa' });
    expect(delayed.status).toBe(202);
    await terminal(shopper.client, delayed.body.id, 60_000);

    // The catalog goes down: upstream 5xx, gateway retries, the catalog breaker opens.
    const reader = await signUp(api, 'Reader');
    await inject({ service: 'catalog', kind: 'outage', durationSeconds: 8 });
    for (let i = 0; i < 15; i++) await reader.client.get(`/api/products/${(products[i % products.length] as Product).id}`);

    // A flood from one user: the rate limiter refuses part, the order upstream's bulkhead another part. The order
    // service answers slowly meanwhile, so the requests the limiter lets through overlap and fill the bulkhead
    // however fast the machine is (without it, a quick machine can serve them one by one).
    const flooder = await signUp(api, 'Flood');
    await inject({ service: 'order', kind: 'latency', latencyMs: 300, route: '/orders', durationSeconds: 5 });
    const answers = await Promise.all(Array.from({ length: 80 }, () => flooder.client.get('/api/orders')));
    const statuses = answers.map((a) => a.status);
    expect(statuses, 'rate limited').toContain(429);
    expect(statuses, 'bulkhead full').toContain(503);

    // A poisoned message: every consumer of the subject dead-letters it.
    const bus = await EventBus.connect({ url: stack.natsUrl, name: 'metrics-test', logger: createLogger('metrics-test', 'silent') });
    try {
      await bus.js.publish('payments.declined.poison', 'this is not an event', { msgID: randomUUID() });
    } finally {
      await bus.drain();
    }
  });

  it('when run against Prometheus after the burst, then every dashboard expression returns at least one series', async () => {
    const { listPromQLExpressions } = await import('../../observability/dashboards/src/queries.js');
    const { SERVICES } = await import('../../observability/dashboards/src/shared.js');
    const listed = listPromQLExpressions();
    expect(listed.length).toBeGreaterThan(40);
    const spanDerived = listed.filter((q) => SPAN_DERIVED.test(q.expr));
    // Exactly the panels built on span-derived metrics; anything else must have data here.
    expect(spanDerived.map((q) => `${q.dashboardUid} / ${q.source}`)).toEqual([
      'tracemart-overview / Service graph edges',
      'tracemart-overview / Service graph edges',
      'tracemart-service / Span rate by name',
      'tracemart-service / Span p95 by name',
    ]);
    // `$service` panels are one dashboard per service: each expression must have data for some service.
    const queries = listed
      .filter((q) => !SPAN_DERIVED.test(q.expr))
      .map((q) => ({
        label: `${q.dashboardUid} / ${q.source} / ${q.refId}`,
        alternatives: q.expr.includes('$service')
          ? SERVICES.map(
              (service) =>
                listPromQLExpressions({ service, rateInterval: '1m', range: '1h' }).find((e) => e.dashboardUid === q.dashboardUid && e.source === q.source && e.refId === q.refId)
                  ?.runnable ?? '',
            )
          : [q.runnable],
      }));
    const empty = await emptyAfterPolling(queries, 60_000);
    expect(empty, `dashboard expressions without any series:\n${empty.join('\n')}`).toEqual([]);
  });

  it('when some jobs served no 5xx, then the error-ratio panels still draw a line (0) for every job with traffic', async () => {
    const { listPromQLExpressions } = await import('../../observability/dashboards/src/queries.js');
    const panel = listPromQLExpressions().find((q) => q.dashboardUid === 'tracemart-overview' && q.source === 'Error ratio (5xx)');
    expect(panel, 'overview error-ratio panel').toBeDefined();
    const jobsOf = (series: { metric: Record<string, string> }[]): string[] => [...new Set(series.map((s) => s.metric.job ?? ''))].sort();
    const withTraffic = jobsOf(await instantQuery(prometheusUrl(), 'sum by (job) (rate(http_server_request_duration_count[1m])) > 0'));
    expect(withTraffic.length, 'jobs with traffic').toBeGreaterThanOrEqual(2);
    const drawn = await instantQuery(prometheusUrl(), panel?.runnable ?? '');
    expect(jobsOf(drawn)).toEqual(expect.arrayContaining(withTraffic));
    // Healthy jobs read exactly 0; the ratio is never above 1.
    const ratios = drawn.map((s) => ({ job: s.metric.job, ratio: Number(s.value[1]) })).filter((r) => !Number.isNaN(r.ratio));
    for (const { job, ratio } of ratios) expect(ratio, job).toBeLessThanOrEqual(1);
    expect(ratios.filter((r) => r.ratio === 0).length, 'jobs at 0').toBeGreaterThan(0);
  });

  it('when run against Prometheus after the burst, then every recording rule and every alert (thresholds stripped) returns a series', async () => {
    const queries = ruleFiles().flatMap(({ file, rules }) =>
      rules.flatMap((rule) =>
        rule.record
          ? [
              { label: `${file} / ${rule.record} (expr)`, alternatives: [rule.expr] },
              { label: `${file} / ${rule.record} (recorded)`, alternatives: [rule.record] },
            ]
          : [{ label: `${file} / alert ${rule.alert} (thresholds stripped)`, alternatives: [stripThresholds(rule.expr)] }],
      ),
    );
    expect(queries.filter((q) => q.label.includes('alert')).length).toBeGreaterThan(0);
    for (const q of queries.filter((x) => x.label.includes('alert'))) expect(q.alternatives[0], q.label).not.toMatch(/[<>]/);
    const empty = await emptyAfterPolling(queries, 60_000);
    expect(empty, `rule expressions without any series:\n${empty.join('\n')}`).toEqual([]);
  });
});

describe('the canary analysis queries', () => {
  it('when run against the local Prometheus with traffic, then each returns a number for the services the canaries cover', async () => {
    const analysis = JSON.parse(readFileSync(join(repoRoot, 'deploy', 'analysis-queries.json'), 'utf8')) as { name: string; query: string }[];
    expect(analysis.length).toBeGreaterThanOrEqual(2);
    // Fresh traffic inside the queries' one-minute window (payment is probed by the gateway continuously).
    for (let i = 0; i < 10; i++) await shopper.client.get('/api/orders');
    // Locally there is one version of each service, so canary and stable select the same (every) instance:
    // the query shapes, metric names and labels are what is checked here; the cluster fills in pod-template hashes.
    const queries = ['order', 'payment'].flatMap((service) =>
      analysis.map((q) => ({
        label: `${q.name} for ${service}`,
        alternatives: [q.query.replaceAll('{{service}}', service).replaceAll('{{canary}}', 'instance=~".+"').replaceAll('{{stable}}', 'instance=~".+"')],
      })),
    );
    const empty = await emptyAfterPolling(queries, 60_000);
    expect(empty, `analysis queries without data:\n${empty.join('\n')}`).toEqual([]);
  });
});

describe('stripping alert thresholds', () => {
  it('when an alert compares SLIs to constants, then only the SLIs remain', () => {
    expect(stripThresholds('(\n  a:b > (14.4 * (1 - 0.995))\n  and\n  c:d > (14.4 * (1 - 0.995))\n)\nor\n(e > 3 and f >= 0.5)')).toBe('( a:b and c:d ) or (e and f )');
    expect(stripThresholds('sum(rate(x{code=~"5.."}[5m])) > 0')).toBe('sum(rate(x{code=~"5.."}[5m]))');
    expect(stripThresholds('a > b')).toBe('a > b');
  });
});
