/**
 * `npm run telemetry [-- --check]`: the whole system with its telemetry going through a real OpenTelemetry
 * Collector (observability/otel-collector/config.yaml) to Jaeger (traces), VictoriaLogs (logs, with a web UI)
 * and Prometheus (metrics, including the collector's span metrics): see packages/stack/src/telemetry-backends.ts.
 * No Docker: the binaries come from `npm run telemetry:build` (also run by `npm run setup -- --all`).
 *
 * --check: places one order as the shop does (under a browser `checkout` span, exported through the gateway's
 * POST /otlp/v1/traces), then verifies that Jaeger has its trace with that span and every saga service, that
 * VictoriaLogs has log lines carrying its trace id, that Prometheus has span metrics, and that the shop's "see this
 * trace" links (GET /api/config: the logs UI and the trace JSON) answer; exits 0 or 1 and stops everything.
 * Without it, runs until Ctrl-C.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort, logsUiUrl, queryLogs, readTrace, startStack, startTelemetryBackends, writeStackFile, type Stack, type TelemetryBackends } from '@tracemart/stack';

const root = resolve(__dirname, '..');
const check = process.argv.includes('--check');
const log = (line: string) => process.stdout.write(`[telemetry] ${line}\n`);
const SAGA_SERVICES = ['gateway', 'order', 'inventory', 'payment', 'notification'];
/** The service name of the shop's browser spans (exported through the gateway's POST /otlp/v1/traces). */
const BROWSER_SERVICE = 'storefront';

async function json<T>(url: string, init: RequestInit = {}): Promise<{ status: number; body: T; headers: Headers }> {
  const response = await fetch(url, { ...init, signal: AbortSignal.timeout(10_000) });
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T, headers: response.headers };
}

/** Polls `read` every 2 s until it returns a value; undefined (and a log line) after `timeoutMs`. */
async function poll<T>(what: string, read: () => Promise<T | undefined>, timeoutMs: number): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) {
      log(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
      return undefined;
    }
    await new Promise((r) => setTimeout(r, 2_000));
  }
}

/** One order through the gateway, then its trace, logs and span metrics read back from Jaeger, VictoriaLogs, Prometheus. */
async function verify(stack: Stack, backends: TelemetryBackends): Promise<boolean> {
  const api = stack.gatewayUrl;
  const headers = { 'content-type': 'application/json' };
  const email = `telemetry-${Date.now()}@example.test`;
  const password = 'Telemetry-check-password-1';
  await json(`${api}/api/users/register`, { method: 'POST', headers, body: JSON.stringify({ email, password, name: 'Telemetry check' }) });
  const { body: login } = await json<{ token: string }>(`${api}/api/users/login`, { method: 'POST', headers, body: JSON.stringify({ email, password }) });
  const auth = { ...headers, authorization: `Bearer ${login.token}` };
  const { body: products } = await json<{ items: { id: string }[] }>(`${api}/api/products?limit=5`);
  // As the shop does it: the click's `checkout` span is the parent of the order call, and is exported through the gateway.
  const clickSpanId = randomBytes(8).toString('hex');
  const clickStarted = BigInt(Date.now()) * 1_000_000n;
  const placed = await json<{ id: string }>(`${api}/api/orders`, {
    method: 'POST',
    headers: { ...auth, traceparent: `00-${randomBytes(16).toString('hex')}-${clickSpanId}-01` },
    body: JSON.stringify({ items: [{ productId: products.items[0]?.id, quantity: 1 }], paymentToken: 'tok_visa' }),
  });
  const traceId = placed.headers.get('x-trace-id') ?? '';
  log(`order ${placed.body.id} placed (HTTP ${placed.status}), trace ${traceId}`);
  const exported = await fetch(`${api}/otlp/v1/traces`, {
    method: 'POST',
    headers,
    body: JSON.stringify({
      resourceSpans: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: BROWSER_SERVICE } }] },
          scopeSpans: [
            {
              scope: { name: 'telemetry-check' },
              spans: [
                { traceId, spanId: clickSpanId, name: 'checkout', kind: 1, startTimeUnixNano: String(clickStarted), endTimeUnixNano: String(BigInt(Date.now()) * 1_000_000n) },
              ],
            },
          ],
        },
      ],
    }),
    signal: AbortSignal.timeout(10_000),
  });
  log(`the browser's checkout span sent through POST /otlp/v1/traces: HTTP ${exported.status}`);
  const order = await poll(
    'the order to settle',
    async () => {
      const { body } = await json<{ status: string }>(`${api}/api/orders/${placed.body.id}`, { headers: auth });
      return body.status === 'PENDING' ? undefined : body;
    },
    30_000,
  );
  log(`order ${order?.status ?? 'still PENDING'}`);

  const traceServices = [BROWSER_SERVICE, ...SAGA_SERVICES];
  const trace = await poll(
    `trace ${traceId} in Jaeger with ${traceServices.join(', ')}`,
    async () => {
      const read = await readTrace(backends.jaegerUrl, traceId);
      return traceServices.every((s) => read.services.includes(s)) ? read : undefined;
    },
    60_000,
  );
  log(trace ? `Jaeger: ${backends.jaegerUrl}/api/v3/traces/${traceId} has ${trace.spans.length} spans from ${trace.services.join(', ')}` : 'Jaeger: FAILED');
  // One tree, whose only root is the browser's click, once every process's last batch is in (a span whose parent has not
  // arrived yet looks like a root meanwhile).
  const rootsOf = (spans: readonly { spanId: string; parentSpanId: string; service: string; name: string }[]) => {
    const ids = new Set(spans.map((s) => s.spanId));
    return spans.filter((s) => !s.parentSpanId || !ids.has(s.parentSpanId)).map((s) => `${s.service}: ${s.name}`);
  };
  let roots = rootsOf(trace?.spans ?? []);
  const click = `${BROWSER_SERVICE}: checkout`;
  const rootedAtClick = await poll(
    `the trace to have one root, the browser's click`,
    async () => {
      roots = rootsOf((await readTrace(backends.jaegerUrl, traceId)).spans);
      return roots.length === 1 && roots[0] === click ? true : undefined;
    },
    30_000,
  );
  log(rootedAtClick ? `the trace's one root is the browser's click (${click})` : `trace roots: FAILED (${roots.join('; ') || 'none'})`);

  // The shop's "see this trace" links, as GET /api/config gives them, each answering for this trace.
  const { body: shopConfig } = await json<{ browserTracing: boolean; traceLinks: { label: string; template: string }[] }>(`${api}/api/config`);
  const links = await Promise.all(
    shopConfig.traceLinks.map(async ({ label, template }) => {
      const url = template.replace('{traceId}', traceId);
      const status = (await fetch(url, { signal: AbortSignal.timeout(10_000) }).catch(() => undefined))?.status ?? 0;
      log(`shop link "${label}": ${url} -> HTTP ${status}`);
      return status === 200;
    }),
  );
  const shopLinks = shopConfig.browserTracing && links.length === 2 && links.every(Boolean);
  log(shopLinks ? 'shop config: browser tracing on, both links answer' : `shop config: FAILED (${JSON.stringify(shopConfig)})`);

  const logs = await poll(
    `log lines with trace_id ${traceId} in VictoriaLogs`,
    async () => {
      const records = await queryLogs(backends.logsUrl, `trace_id:="${traceId}"`);
      return records.length > 0 ? { count: records.length, services: [...new Set(records.map((r) => r['service.name'] ?? '?'))].sort() } : undefined;
    },
    60_000,
  );
  log(
    logs
      ? `VictoriaLogs: ${logs.count} log lines with the trace id, from ${logs.services.join(', ')}; read them at ${logsUiUrl(backends.logsUrl, traceId)}`
      : 'VictoriaLogs: FAILED',
  );

  const prometheusUrl = stack.prometheusUrl ?? '';
  const spanMetrics = await poll(
    'span metrics in Prometheus',
    async () => {
      const { body } = await json<{ data?: { result?: unknown[] } }>(
        `${prometheusUrl}/api/v1/query?${new URLSearchParams({ query: 'sum by (service_name) (traces_spanmetrics_calls_total)' }).toString()}`,
      );
      const n = body.data?.result?.length ?? 0;
      return n > 0 ? n : undefined;
    },
    90_000,
  );
  log(`Prometheus: span metrics for ${spanMetrics ?? 0} services`);
  return Boolean(trace && rootedAtClick && logs && spanMetrics && shopLinks);
}

async function main(): Promise<void> {
  const dataDir = check ? mkdtempSync(join(tmpdir(), 'tracemart-telemetry-')) : join(root, '.data');
  const prometheusPort = check ? await freePort() : 9090;
  const prometheusUrl = `http://127.0.0.1:${prometheusPort}`;
  log('starting VictoriaLogs, Jaeger and the OpenTelemetry Collector');
  const backends = await startTelemetryBackends({ root, dataDir, prometheusUrl });
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
      // The shop's browser spans go through the gateway (POST /otlp/v1/traces) to the same collector; its "see this
      // trace" links (GET /api/config) open the logs UI and the trace JSON of the local backends.
      envFor: { gateway: { OTLP_TRACES_URL: `${backends.otlpUrl}/v1/traces`, LOGS_UI_URL: backends.logsUrl, TRACES_URL: backends.jaegerUrl } },
    });
    if (!check) writeStackFile(dataDir, stack);
    log(`gateway and shop ${stack.gatewayUrl}/; Prometheus ${prometheusUrl}; collector ${backends.otlpUrl}`);
    log(`traces: ${backends.jaegerUrl}/api/v3/traces/<trace id> (every response's x-trace-id); logs UI: ${backends.logsUrl}/select/vmui/`);
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
  process.stderr.write(`telemetry failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
