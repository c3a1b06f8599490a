import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, queryLoki, readTempoTrace, startStack, startTraceBackends, type Stack, type TraceBackends } from '@tracemart/stack';
import { apiClient, signUp } from '../support/api-client';
import { eventually, repoRoot } from '../support/infra';
import { instantQuery } from './prometheus-api';

/**
 * The observability/ configuration running for real, not read: an OpenTelemetry Collector, Tempo and Loki
 * (built from source by `npm run setup`, see scripts/build-lgtm.sh) started from the repository's own
 * config files (packages/stack/src/lgtm.ts changes only hosts, ports and folders), every process
 * exporting OTLP to the collector, and Prometheus receiving Tempo's span metrics by remote write.
 * The assertions read back through the backends' own query APIs, as Grafana's datasources would.
 */

interface Order {
  id: string;
  status: 'PENDING' | 'CONFIRMED' | 'CANCELLED';
}
const TEMPO_GENERATED = /\btraces_(service_graph|spanmetrics)_/;
const SAGA_SERVICES = ['gateway', 'order', 'inventory', 'payment', 'notification'];

let backends: TraceBackends;
let stack: Stack;
let dataDir: string;
let password: string;
let token: string;
const placed: Record<'confirmed' | 'declined', { id: string; traceId: string }> = { confirmed: { id: '', traceId: '' }, declined: { id: '', traceId: '' } };

async function getJson<T>(url: string): Promise<{ status: number; body: T }> {
  const response = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T };
}

type TraceView = Awaited<ReturnType<typeof readTempoTrace>>;

/** The trace as Tempo answers it, once the saga's services (and whatever `complete` asks for) have arrived. */
const tempoTrace = (traceId: string, complete: (trace: TraceView) => boolean = () => true): Promise<TraceView> =>
  eventually(() => readTempoTrace(backends.tempoUrl, traceId), (t) => SAGA_SERVICES.every((s) => t.services.includes(s)) && complete(t), 60_000);

const loki = (query: string) => queryLoki(backends.lokiUrl, query);

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'tracemart-lgtm-'));
  const prometheusPort = await freePort();
  backends = await startTraceBackends({ root: repoRoot, dataDir, prometheusUrl: `http://127.0.0.1:${prometheusPort}` });
  stack = await startStack({
    root: repoRoot,
    dataDir,
    freePorts: true,
    prometheus: true,
    prometheusPort,
    readyTimeoutMs: 120_000,
    env: { LOG_LEVEL: 'info', OTEL_EXPORTER_OTLP_ENDPOINT: backends.otlpUrl, OTEL_BSP_SCHEDULE_DELAY: '200', OTEL_BLRP_SCHEDULE_DELAY: '200' },
  });
  const api = apiClient(stack.gatewayUrl);
  const shopper = await signUp(api, 'Lgtm');
  password = shopper.password;
  token = (await api.post<{ token: string }>('/api/users/login', { email: shopper.email, password })).body.token;
  const products = (await api.get<{ items: { id: string }[] }>('/api/products?limit=5')).body.items;
  for (const [which, paymentToken, product] of [['confirmed', 'tok_visa', products[0]], ['declined', 'tok_chargeDeclined', products[1]]] as const) {
    const answer = await shopper.client.post<Order>('/api/orders', { items: [{ productId: product?.id, quantity: 1 }], paymentToken });
    expect(answer.status).toBe(202);
    placed[which] = { id: answer.body.id, traceId: answer.headers.get('x-trace-id') ?? '' };
    await eventually(async () => (await shopper.client.get<Order>(`/api/orders/${answer.body.id}`)).body, (o) => o.status !== 'PENDING', 30_000);
  }
}, 300_000);

afterAll(async () => {
  await stack?.stop();
  await backends?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
}, 60_000);

describe('telemetry through a real Collector into Tempo, Loki and Prometheus', () => {
  it('when an order is placed, then Tempo holds its one trace with the gateway and every saga service', async () => {
    const trace = await tempoTrace(placed.confirmed.traceId);
    expect(trace.services).toEqual(expect.arrayContaining(SAGA_SERVICES));
    // The NATS hops arrived in the same trace: a consumer span in every service the saga crosses.
    const consumers = trace.spans.filter((s) => s.name.startsWith('process ')).map((s) => s.service);
    for (const service of ['inventory', 'payment', 'order', 'notification']) expect(consumers, `consumer spans of ${service}`).toContain(service);
  });

  it('when a card is declined, then its trace in Tempo has the ERROR span, and a TraceQL search for errors finds it', async () => {
    const trace = await tempoTrace(placed.declined.traceId, (t) => t.spans.some((s) => s.error));
    const errors = trace.spans.filter((s) => s.error);
    expect(errors.map((s) => `${s.service}: ${s.name}`)).toContain('payment: charge card');
    // The per-service dashboard's "Recent error traces" panel runs this TraceQL for $service.
    const q = '{ resource.service.name = "payment" && status = error }';
    const found = await eventually(
      async () => (await getJson<{ traces?: { traceID: string }[] }>(`${backends.tempoUrl}/api/search?${new URLSearchParams({ q, limit: '50' }).toString()}`)).body.traces ?? [],
      (traces) => traces.some((t) => t.traceID.replace(/^0+/, '') === placed.declined.traceId.replace(/^0+/, '')),
      60_000,
    );
    expect(found.length).toBeGreaterThan(0);
  });

  it("when the services log while serving the order, then Loki has those lines under each service's name with the trace id, and no secret", async () => {
    const { traceId } = placed.confirmed;
    const streams = await eventually(
      () => loki(`{service_name=~".+"} | trace_id="${traceId}"`),
      (result) => ['order', 'payment', 'notification'].every((s) => result.some((r) => r.stream.service_name === s)),
      60_000,
    );
    expect(streams.reduce((n, s) => n + s.values.length, 0)).toBeGreaterThan(3);
    for (const secret of [password, token, 'tok_visa']) expect(await loki(`{service_name=~".+"} |= \`${secret}\``), 'a secret in Loki').toEqual([]);
  });

  it("when Tempo's metrics-generator has run, then every dashboard panel built on span metrics and the service graph has data, with exemplars linking to traces", async () => {
    const { listPromQLExpressions } = await import('../../observability/dashboards/src/queries.js');
    const { SERVICES } = await import('../../observability/dashboards/src/shared.js');
    const prometheusUrl = stack.prometheusUrl ?? '';
    const tempoPanels = listPromQLExpressions().filter((q) => TEMPO_GENERATED.test(q.expr));
    expect(tempoPanels.length).toBe(4);
    for (const panel of tempoPanels) {
      // `$service` panels: data for some service is enough.
      const variants = SERVICES.map((service) => listPromQLExpressions({ service, rateInterval: '1m', range: '1h' }).find((e) => e.dashboardUid === panel.dashboardUid && e.source === panel.source && e.refId === panel.refId)?.runnable ?? panel.runnable);
      await eventually(
        async () => (await Promise.all(variants.map((v) => instantQuery(prometheusUrl, v)))).some((r) => r.length > 0),
        Boolean,
        120_000,
      );
    }
    // Exemplars arrive with Tempo's next remote write: poll for them.
    const exemplarTraceIds = async () => {
      const end = Date.now() / 1000;
      const params = new URLSearchParams({ query: 'traces_spanmetrics_latency_bucket', start: String(end - 900), end: String(end) });
      const exemplars = (await getJson<{ data?: { exemplars: { labels: Record<string, string> }[] }[] }>(`${prometheusUrl}/api/v1/query_exemplars?${params.toString()}`)).body.data ?? [];
      return exemplars.flatMap((series) => series.exemplars.map((e) => e.labels.traceID ?? ''));
    };
    const traceIds = await eventually(exemplarTraceIds, (ids) => ids.length > 0, 60_000).catch(exemplarTraceIds);
    expect(traceIds.length, 'exemplars on traces_spanmetrics_latency_bucket').toBeGreaterThan(0);
    for (const id of traceIds) expect(id).toMatch(/^[0-9a-f]{1,32}$/);
  }, 210_000);
});
