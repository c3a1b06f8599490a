/**
 * `npm run lgtm [-- --check]`: the whole system with its telemetry going through a real OpenTelemetry
 * Collector to real Tempo (traces, plus span metrics and the service graph remote-written to Prometheus) and
 * Loki (logs), all configured from observability/ (see packages/stack/src/lgtm.ts). No Docker: the binaries
 * come from `bash scripts/build-lgtm.sh`. Grafana is not included; query Tempo and Loki over their HTTP APIs
 * (the URLs are printed), or point a Grafana at them.
 *
 * --check: places one order, then verifies that its trace is in Tempo with every service, that Loki has log
 * lines carrying its trace id, and that Prometheus has Tempo's span metrics and service graph; exits 0 or 1
 * and stops everything. Without it, runs until Ctrl-C.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort, queryLoki, readTempoTrace, startStack, startTraceBackends, type Stack, type TraceBackends } from '@tracemart/stack';

const root = resolve(__dirname, '..');
const check = process.argv.includes('--check');
const log = (line: string) => process.stdout.write(`[lgtm] ${line}\n`);

async function json<T>(url: string, init: RequestInit = {}): Promise<{ status: number; body: T; headers: Headers }> {
  const response = await fetch(url, { ...init, signal: AbortSignal.timeout(10_000) });
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T, headers: response.headers };
}

async function poll<T>(what: string, read: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2_000));
  }
}

/** One order through the gateway, then its trace, logs and span metrics read back from Tempo, Loki, Prometheus. */
async function verify(stack: Stack, backends: TraceBackends): Promise<boolean> {
  const api = stack.gatewayUrl;
  const headers = { 'content-type': 'application/json' };
  const email = `lgtm-${Date.now()}@example.test`;
  const password = 'Lgtm-check-password-1';
  await json(`${api}/api/users/register`, { method: 'POST', headers, body: JSON.stringify({ email, password, name: 'LGTM check' }) });
  const { body: login } = await json<{ token: string }>(`${api}/api/users/login`, { method: 'POST', headers, body: JSON.stringify({ email, password }) });
  const auth = { ...headers, authorization: `Bearer ${login.token}` };
  const { body: products } = await json<{ items: { id: string }[] }>(`${api}/api/products?limit=5`);
  const placed = await json<{ id: string }>(`${api}/api/orders`, { method: 'POST', headers: auth, body: JSON.stringify({ items: [{ productId: products.items[0]?.id, quantity: 1 }], paymentToken: 'tok_visa' }) });
  const traceId = placed.headers.get('x-trace-id') ?? '';
  log(`order ${placed.body.id} placed (HTTP ${placed.status}), trace ${traceId}`);
  const order = await poll(
    'the order to settle',
    async () => {
      const { body } = await json<{ status: string }>(`${api}/api/orders/${placed.body.id}`, { headers: auth });
      return body.status === 'PENDING' ? undefined : body;
    },
    30_000,
  );
  log(`order ${order.status}`);

  const expected = ['gateway', 'order', 'inventory', 'payment', 'notification'];
  let services: string[] = [];
  const trace = await poll(
    `trace ${traceId} in Tempo with ${expected.join(', ')}`,
    async () => {
      const read = await readTempoTrace(backends.tempoUrl, traceId);
      services = read.services;
      return expected.every((s) => services.includes(s)) ? read : undefined;
    },
    60_000,
  ).catch((err: unknown) => {
    log(`${String(err)}; services seen: ${services.join(', ') || 'none'}`);
    return undefined;
  });
  log(trace ? `Tempo: trace has ${trace.spans.length} spans from ${services.join(', ')}` : 'Tempo: FAILED');

  const logs = await poll(
    `log lines with trace_id ${traceId} in Loki`,
    async () => {
      const streams = await queryLoki(backends.lokiUrl, `{service_name=~".+"} | trace_id="${traceId}"`);
      const count = streams.reduce((n, s) => n + s.values.length, 0);
      return count > 0 ? { count, services: [...new Set(streams.map((s) => s.stream.service_name ?? '?'))].sort() } : undefined;
    },
    60_000,
  ).catch((err: unknown) => {
    log(String(err));
    return undefined;
  });
  log(logs ? `Loki: ${logs.count} log lines with the trace id, from ${logs.services.join(', ')}` : 'Loki: FAILED');

  const prometheusUrl = stack.prometheusUrl ?? '';
  const series = async (query: string) => {
    const { body } = await json<{ data?: { result?: unknown[] } }>(`${prometheusUrl}/api/v1/query?${new URLSearchParams({ query }).toString()}`);
    const n = body.data?.result?.length ?? 0;
    return n > 0 ? n : undefined;
  };
  const spanMetrics = await poll('Tempo span metrics in Prometheus', () => series('sum by (service) (traces_spanmetrics_calls_total)'), 90_000).catch(() => undefined);
  const graph = await poll('the Tempo service graph in Prometheus', () => series('traces_service_graph_request_total'), 90_000).catch(() => undefined);
  const exemplars = await json<{ data?: unknown[] }>(`${prometheusUrl}/api/v1/query_exemplars?${new URLSearchParams({ query: 'traces_spanmetrics_latency_bucket', start: String(Date.now() / 1000 - 600), end: String(Date.now() / 1000) }).toString()}`).catch(() => undefined);
  log(`Prometheus: span metrics for ${spanMetrics ?? 0} services, ${graph ?? 0} service-graph edges, ${exemplars?.body.data?.length ?? 0} exemplar series on traces_spanmetrics_latency_bucket`);
  return Boolean(trace && logs && spanMetrics && graph);
}

async function main(): Promise<void> {
  const dataDir = check ? mkdtempSync(join(tmpdir(), 'tracemart-lgtm-')) : join(root, '.data');
  const prometheusPort = await freePort();
  const prometheusUrl = `http://127.0.0.1:${prometheusPort}`;
  log('starting Loki, Tempo and the OpenTelemetry Collector');
  const backends = await startTraceBackends({ root, dataDir, prometheusUrl });
  let stack: Stack | undefined;
  const stopAll = async () => {
    await stack?.stop();
    await backends.stop();
    if (check) rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    log(`starting tracemart with OTEL_EXPORTER_OTLP_ENDPOINT=${backends.otlpUrl}`);
    stack = await startStack({
      root,
      dataDir,
      freePorts: check,
      prometheus: true,
      prometheusPort,
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: backends.otlpUrl, OTEL_BSP_SCHEDULE_DELAY: '500', LOG_LEVEL: 'info' },
    });
    log(`gateway ${stack.gatewayUrl}; Prometheus ${prometheusUrl}; Tempo ${backends.tempoUrl}; Loki ${backends.lokiUrl}; collector ${backends.otlpUrl}`);
    if (check) {
      const ok = await verify(stack, backends);
      log(ok ? 'check passed' : 'check FAILED');
      await stopAll();
      process.exit(ok ? 0 : 1);
    }
    log('Ctrl-C stops everything.');
    const shutdown = () => void stopAll().then(() => process.exit(0));
    process.on('SIGINT', shutdown);
    process.on('SIGTERM', shutdown);
  } catch (err) {
    await stopAll();
    throw err;
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`lgtm failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
