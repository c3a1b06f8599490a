import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findTraceIds, freePort, queryLogs, readTrace, startStack, startTelemetryBackends, type Stack, type TelemetryBackends } from '@tracemart/stack';
import { apiClient, signUp, eventually, repoRoot } from '@tracemart/testing';
import { instantQuery } from './prometheus-api';

/**
 * The observability/ configuration running for real, not read: the OpenTelemetry Collector from
 * observability/otel-collector/config.yaml (only exporters, hosts and ports changed), Jaeger for traces and
 * VictoriaLogs for logs (the local stand-ins for Tempo and Loki, built by `npm run setup -- --all`), every
 * process exporting OTLP to the collector, and Prometheus receiving the collector's span metrics by remote
 * write. The assertions read back through the backends' own query APIs.
 */

interface Order {
  id: string;
  status: 'PENDING' | 'CONFIRMED' | 'CANCELLED';
}
const SPAN_METRICS = /\btraces_spanmetrics_/;
const SAGA_SERVICES = ['gateway', 'order', 'inventory', 'payment', 'notification'];

let backends: TelemetryBackends;
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

type TraceView = Awaited<ReturnType<typeof readTrace>>;

/** Spans whose parent is not in the trace: one (the gateway's server span) once the whole trace has arrived. */
const rootsOf = (trace: TraceView) => {
  const ids = new Set(trace.spans.map((s) => s.spanId));
  return trace.spans.filter((s) => !s.parentSpanId || !ids.has(s.parentSpanId));
};

/** The trace as Jaeger answers it, once the saga's services (and whatever `complete` asks for) have arrived. */
const jaegerTrace = (traceId: string, complete: (trace: TraceView) => boolean = () => true): Promise<TraceView> =>
  eventually(
    () => readTrace(backends.jaegerUrl, traceId),
    (t) => SAGA_SERVICES.every((s) => t.services.includes(s)) && complete(t),
    60_000,
  );

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'tracemart-telemetry-'));
  const prometheusPort = await freePort();
  backends = await startTelemetryBackends({ root: repoRoot, dataDir, prometheusUrl: `http://127.0.0.1:${prometheusPort}` });
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
  const shopper = await signUp(api, 'Telemetry');
  password = shopper.password;
  token = (await api.post<{ token: string }>('/api/users/login', { email: shopper.email, password })).body.token;
  const products = (await api.get<{ items: { id: string }[] }>('/api/products?limit=5')).body.items;
  for (const [which, paymentToken, product] of [
    ['confirmed', 'tok_visa', products[0]],
    ['declined', 'tok_chargeDeclined', products[1]],
  ] as const) {
    const answer = await shopper.client.post<Order>('/api/orders', { items: [{ productId: product?.id, quantity: 1 }], paymentToken });
    expect(answer.status).toBe(202);
    placed[which] = { id: answer.body.id, traceId: answer.headers.get('x-trace-id') ?? '' };
    await eventually(
      async () => (await shopper.client.get<Order>(`/api/orders/${answer.body.id}`)).body,
      (o) => o.status !== 'PENDING',
      30_000,
    );
  }
}, 300_000);

afterAll(async () => {
  await stack?.stop();
  await backends?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
}, 60_000);

describe('telemetry through a real Collector into Jaeger, VictoriaLogs and Prometheus', () => {
  it('when an order is placed, then Jaeger holds its one trace with the gateway, every saga service and the NATS hops', async () => {
    // One tree: every span but the root has its parent in the trace. A parent ends, and is exported, after its
    // children, so wait for the tree to be whole (it never is if a hop started a new trace).
    const trace = await jaegerTrace(placed.confirmed.traceId, (t) => rootsOf(t).length === 1);
    expect(rootsOf(trace).map((s) => `${s.service}: ${s.name}`)).toEqual(['gateway: POST /api/orders']);
    expect(trace.services).toEqual(expect.arrayContaining(SAGA_SERVICES));
    // The NATS hops arrived in the same trace: a consumer span in every service the saga crosses.
    const consumers = trace.spans.filter((s) => s.name.startsWith('process ')).map((s) => s.service);
    for (const service of ['inventory', 'payment', 'order', 'notification']) expect(consumers, `consumer spans of ${service}`).toContain(service);
  });

  it('when a card is declined, then its trace has the ERROR span, and a search for the failing operation finds it', async () => {
    const trace = await jaegerTrace(placed.declined.traceId, (t) => t.spans.some((s) => s.error));
    const errors = trace.spans.filter((s) => s.error);
    expect(errors.map((s) => `${s.service}: ${s.name}`)).toContain('payment: charge card');
    const found = await eventually(
      () => findTraceIds(backends.jaegerUrl, { service: 'payment', operation: 'charge card' }),
      (ids) => ids.includes(placed.declined.traceId),
      60_000,
    );
    expect(found).toContain(placed.confirmed.traceId);
  });

  it("when the services log while serving the order, then VictoriaLogs has those lines from every process on the trace's path, with the trace id and no secret", async () => {
    const { traceId } = placed.confirmed;
    const records = await eventually(
      () => queryLogs(backends.logsUrl, `trace_id:="${traceId}"`),
      (result) => SAGA_SERVICES.every((s) => result.some((r) => r['service.name'] === s)),
      60_000,
    );
    expect(records.length).toBeGreaterThan(SAGA_SERVICES.length);
    for (const record of records) expect(record.trace_id).toBe(traceId);
    // The web UI a person opens to read them is served by the same process.
    const ui = await fetch(`${backends.logsUrl}/select/vmui/`, { signal: AbortSignal.timeout(10_000) });
    expect(ui.status).toBe(200);
    expect(await ui.text()).toContain('<html');
    // Every field of every record, not only the message: a secret in a structured attribute counts too.
    const everything = JSON.stringify(await queryLogs(backends.logsUrl, '*', 100_000));
    expect(everything).toContain(traceId);
    for (const secret of [password, token, 'tok_visa']) expect(everything.includes(secret), 'a secret in the logs').toBe(false);
  });

  it("when the Collector's spanmetrics connector has flushed, then every dashboard panel built on span metrics has data, with exemplars linking to traces", async () => {
    const { listPromQLExpressions } = await import('../../observability/dashboards/src/queries.js');
    const { SERVICES } = await import('../../observability/dashboards/src/shared.js');
    const prometheusUrl = stack.prometheusUrl ?? '';
    const spanPanels = listPromQLExpressions().filter((q) => SPAN_METRICS.test(q.expr));
    expect(spanPanels.map((q) => q.source)).toEqual(['Span rate by name', 'Span p95 by name']);
    for (const panel of spanPanels) {
      // `$service` panels: data for some service is enough.
      const variants = SERVICES.map(
        (service) =>
          listPromQLExpressions({ service, rateInterval: '1m', range: '1h' }).find(
            (e) => e.dashboardUid === panel.dashboardUid && e.source === panel.source && e.refId === panel.refId,
          )?.runnable ?? panel.runnable,
      );
      await eventually(async () => (await Promise.all(variants.map((v) => instantQuery(prometheusUrl, v)))).some((r) => r.length > 0), Boolean, 120_000);
    }
    const exemplarTraceIds = async () => {
      const end = Date.now() / 1000;
      const params = new URLSearchParams({ query: 'traces_spanmetrics_duration_seconds_bucket', start: String(end - 900), end: String(end) });
      const exemplars =
        (await getJson<{ data?: { exemplars: { labels: Record<string, string> }[] }[] }>(`${prometheusUrl}/api/v1/query_exemplars?${params.toString()}`)).body.data ?? [];
      return exemplars.flatMap((series) => series.exemplars.map((e) => e.labels.trace_id ?? ''));
    };
    const traceIds = await eventually(exemplarTraceIds, (ids) => ids.length > 0, 60_000);
    for (const id of traceIds) expect(id).toMatch(/^[0-9a-f]{32}$/);
    // An exemplar opens a trace Jaeger holds.
    const first = traceIds.find((id) => id === placed.confirmed.traceId || id === placed.declined.traceId) ?? traceIds[0] ?? '';
    expect((await readTrace(backends.jaegerUrl, first)).spans.length).toBeGreaterThan(0);
  }, 210_000);
});
