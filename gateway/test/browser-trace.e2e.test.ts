import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, SpanKind, startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from '@tracemart/stack';
import { eventually, repoRoot } from '@tracemart/testing';
import { INTERNAL_AUTH_SECRET, JWT_SECRET, json, startStub, type Stub } from './support';

/**
 * The browser's click as the root of the trace: the gateway runs as its own process with the telemetry preload (as
 * `npm start` and the images run it), exporting to an OTLP receiver on a free port. A "browser" sends an API call
 * with the W3C traceparent of its `checkout` span, then exports that span through POST /otlp/v1/traces. The receiver
 * must then hold one trace: checkout (no parent) -> the gateway's server span -> its call to the service, whose
 * traceparent names the gateway's client span.
 */
let receiver: OtlpReceiver;
let catalog: Stub;
let gateway: ChildProcess;
let gatewayUrl: string;
const seenTraceparents: string[] = [];
const output: string[] = [];

beforeAll(async () => {
  receiver = await startOtlpReceiver();
  catalog = await startStub((req, res) => {
    seenTraceparents.push(String(req.headers.traceparent ?? ''));
    json(res, 200, { items: [], page: 1, limit: 20, total: 0 });
  });
  const port = await freePort();
  gatewayUrl = `http://127.0.0.1:${port}`;
  const unused = 'http://127.0.0.1:9';
  gateway = spawn(process.execPath, ['--require', 'tsx/cjs', '--require', '@tracemart/platform/preload', 'src/main.ts'], {
    cwd: join(repoRoot, 'gateway'),
    env: {
      PATH: process.env.PATH,
      HOST: '127.0.0.1',
      PORT: String(port),
      METRICS_PORT: '0',
      LOG_LEVEL: 'warn',
      JWT_SECRET,
      INTERNAL_AUTH_SECRET,
      CATALOG_URL: catalog.url,
      USER_URL: unused,
      ORDER_URL: unused,
      INVENTORY_URL: unused,
      PAYMENT_URL: unused,
      NOTIFICATION_URL: unused,
      HEALTH_PROBE_INTERVAL_MS: '60000',
      OTEL_SERVICE_NAME: 'gateway',
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_BSP_SCHEDULE_DELAY: '100',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  gateway.stdout?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  gateway.stderr?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  await eventually(
    async () => (await fetch(`${gatewayUrl}/readyz`, { signal: AbortSignal.timeout(2_000) }).catch(() => undefined))?.status,
    (status) => status === 200,
    60_000,
  ).catch((err: unknown) => {
    throw new Error(`gateway did not start: ${String(err)}\n${output.join('')}`);
  });
}, 90_000);

afterAll(async () => {
  if (gateway && gateway.exitCode === null) {
    const exited = once(gateway, 'exit');
    gateway.kill('SIGTERM');
    await exited;
  }
  await catalog?.close();
  await receiver?.close();
});

const hex = (bytes: number) => randomBytes(bytes).toString('hex');

describe('browser tracing through the gateway', () => {
  it("when the browser calls the API with its checkout span's traceparent and exports the span, then the trace's root is the browser's click", async () => {
    const traceId = hex(16);
    const clickSpanId = hex(8);
    const called = await fetch(`${gatewayUrl}/api/products`, { headers: { traceparent: `00-${traceId}-${clickSpanId}-01` }, signal: AbortSignal.timeout(10_000) });
    expect(called.status).toBe(200);
    expect(called.headers.get('x-trace-id')).toBe(traceId);

    const now = BigInt(Date.now()) * 1_000_000n;
    const exported = await fetch(`${gatewayUrl}/otlp/v1/traces`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        resourceSpans: [
          {
            resource: { attributes: [{ key: 'service.name', value: { stringValue: 'storefront' } }] },
            scopeSpans: [
              {
                scope: { name: 'storefront' },
                spans: [{ traceId, spanId: clickSpanId, name: 'checkout', kind: SpanKind.INTERNAL, startTimeUnixNano: String(now - 50_000_000n), endTimeUnixNano: String(now) }],
              },
            ],
          },
        ],
      }),
      signal: AbortSignal.timeout(10_000),
    });
    expect(exported.status).toBe(200);

    const spans = await eventually(
      async () => receiver.spans.filter((span) => span.traceId === traceId),
      (found) => found.some((s) => s.service === 'storefront') && found.some((s) => s.service === 'gateway' && s.kind === SpanKind.CLIENT),
      20_000,
    );
    const byId = new Map(spans.map((span) => [span.spanId, span]));
    const root = byId.get(clickSpanId);
    expect(root).toMatchObject({ name: 'checkout', service: 'storefront', parentSpanId: undefined });
    const server = spans.find((s) => s.service === 'gateway' && s.kind === SpanKind.SERVER);
    expect(server, spans.map((s) => `${s.service} ${s.name} ${s.kind}`).join('\n')).toMatchObject({
      parentSpanId: clickSpanId,
      attributes: expect.objectContaining({ 'http.route': '/api/products' }),
    });
    // Every span of the trace leads up to the click.
    const rootOf = (span: ReceivedSpan): ReceivedSpan => {
      let current = span;
      for (let hops = 0; hops < 20 && current.parentSpanId && byId.has(current.parentSpanId); hops++) current = byId.get(current.parentSpanId) as ReceivedSpan;
      return current;
    };
    for (const span of spans) expect(rootOf(span).spanId, `${span.service} ${span.name}`).toBe(clickSpanId);
    // The service was called with the gateway's client span as parent, in the same trace.
    const client = spans.find((s) => s.service === 'gateway' && s.kind === SpanKind.CLIENT);
    expect(seenTraceparents).toContain(`00-${traceId}-${client?.spanId}-01`);
  });

  it('when a request carries no traceparent, then the gateway starts a trace of its own', async () => {
    const called = await fetch(`${gatewayUrl}/api/config`, { signal: AbortSignal.timeout(10_000) });
    expect(called.status).toBe(200);
    expect(called.headers.get('x-trace-id')).toMatch(/^[0-9a-f]{32}$/);
    expect(await called.json()).toMatchObject({ browserTracing: true });
  });
});
