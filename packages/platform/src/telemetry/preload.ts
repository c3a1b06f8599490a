/**
 * OpenTelemetry bootstrap, preloaded before any application code:
 *   node --require tsx/cjs --require @tracemart/platform/preload src/main.ts
 * Everything is configured by the standard OTEL_* variables:
 *   - OTEL_SERVICE_NAME names the process (resource `service.name`).
 *   - OTEL_EXPORTER_OTLP_ENDPOINT (or the per-signal variants) turns on OTLP/HTTP export of traces and
 *     logs; without it nothing is exported, but spans still exist so trace ids reach logs and headers.
 *   - OTEL_SDK_DISABLED=true turns telemetry off entirely (used by the overhead benchmark).
 * Metrics are always pulled: a Prometheus reader whose handler each process serves on GET /metrics.
 */
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-http';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { getNodeAutoInstrumentations } from '@opentelemetry/auto-instrumentations-node';
import { ExpressLayerType } from '@opentelemetry/instrumentation-express';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { BatchLogRecordProcessor } from '@opentelemetry/sdk-logs';
import { BatchSpanProcessor, NoopSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { setTelemetryHandle } from './handle';

const env = process.env;
// Stable HTTP semantic conventions: http.server.request.duration in seconds, http.route, and so on.
env.OTEL_SEMCONV_STABILITY_OPT_IN ??= 'http';
// Only the libraries tracemart uses (of the ~40 the package bundles): fewer require hooks and less memory per process.
env.OTEL_NODE_ENABLED_INSTRUMENTATIONS ??= 'http,express,undici,mongodb,pino,runtime-node';

/** A value's shape: field names kept, values as `?`, three levels deep. */
function shapeOf(value: unknown, depth: number): unknown {
  if (!value || typeof value !== 'object' || value instanceof Date) return '?';
  if (depth >= 3) return '…';
  if (Array.isArray(value)) return value.length === 0 ? [] : [shapeOf(value[0], depth + 1)];
  const out: Record<string, unknown> = {};
  for (const key in value) out[key] = shapeOf((value as Record<string, unknown>)[key], depth + 1);
  return out;
}

/**
 * `db.statement` for a MongoDB command: its name, collection and the field names of its filter, values as `?`.
 * The instrumentation's default walks the whole command, inserted documents included (an order event is a few
 * hundred fields deep): measured at 2.3% of the order service's CPU during checkouts.
 */
function statementShape(command: Record<string, unknown>): string {
  const out: Record<string, unknown> = {};
  for (const key in command) {
    const value = command[key];
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') out[key] = value;
    else if (key === 'updates' || key === 'deletes') out[key] = Array.isArray(value) ? value.map((statement: { q?: unknown }) => ({ q: shapeOf(statement.q, 1) })) : '?';
    else if (key === 'filter' || key === 'query' || key === 'sort' || key === 'projection') out[key] = shapeOf(value, 1);
    else out[key] = Array.isArray(value) ? `[${value.length}]` : '?';
  }
  return JSON.stringify(out);
}

const sdkDisabled = env.OTEL_SDK_DISABLED === 'true';
const tracesEndpoint = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? env.OTEL_EXPORTER_OTLP_ENDPOINT;
const logsEndpoint = env.OTEL_EXPORTER_OTLP_LOGS_ENDPOINT ?? env.OTEL_EXPORTER_OTLP_ENDPOINT;
const probePaths = new Set(['/livez', '/readyz', '/metrics']);

if (!sdkDisabled) {
  const prometheus = new PrometheusExporter({ preventServerStart: true });
  const sdk = new NodeSDK({
    metricReader: prometheus,
    // With no endpoint a no-op processor still installs a tracer provider: spans, and so trace ids in
    // logs and response headers, exist even when nothing is exported.
    spanProcessors: [
      tracesEndpoint ? new BatchSpanProcessor(new OTLPTraceExporter(), { scheduledDelayMillis: Number(env.OTEL_BSP_SCHEDULE_DELAY ?? 500) }) : new NoopSpanProcessor(),
    ],
    logRecordProcessors: logsEndpoint ? [new BatchLogRecordProcessor({ exporter: new OTLPLogExporter() })] : [],
    instrumentations: [
      getNodeAutoInstrumentations({
        '@opentelemetry/instrumentation-fs': { enabled: false },
        '@opentelemetry/instrumentation-dns': { enabled: false },
        '@opentelemetry/instrumentation-net': { enabled: false },
        // Express 5 routes through the `router` package, which both the express and the router
        // instrumentations wrap: one is enough. Middleware layers (body parser, request id, faults, rate
        // limit...) get no span of their own; route handlers do, and http.route is unaffected. Measured on
        // the gateway (GET /api/products at 10/s, one run each): OpenTelemetry CPU 1.91 -> 1.42 ms per request.
        '@opentelemetry/instrumentation-router': { enabled: false },
        '@opentelemetry/instrumentation-express': { ignoreLayersType: [ExpressLayerType.MIDDLEWARE] },
        '@opentelemetry/instrumentation-http': {
          ignoreIncomingRequestHook: (req) => probePaths.has((req.url ?? '').split('?')[0] ?? ''),
        },
        // The platform logger adds trace_id/span_id itself; the instrumentation only forwards records to OTLP.
        '@opentelemetry/instrumentation-pino': { disableLogCorrelation: true, disableLogSending: !logsEndpoint },
        '@opentelemetry/instrumentation-mongodb': { dbStatementSerializer: statementShape },
      }),
    ],
  });
  sdk.start();
  setTelemetryHandle({
    enabled: true,
    prometheus,
    shutdown: () => sdk.shutdown(),
  });
}
