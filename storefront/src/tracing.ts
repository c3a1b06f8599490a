import { ROOT_CONTEXT, SpanStatusCode, context, trace, type Span } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { DocumentLoadInstrumentation } from '@opentelemetry/instrumentation-document-load';
import { FetchInstrumentation } from '@opentelemetry/instrumentation-fetch';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, WebTracerProvider } from '@opentelemetry/sdk-trace-web';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';
import type { ShopConfig } from './lib/config';

/** Where the gateway passes OTLP/HTTP on to the Collector (same origin, so no CORS). */
export const OTLP_TRACES_PATH = '/otlp/v1/traces';
const TRACER = 'tracemart-storefront';

/**
 * Browser tracing. Every API call carries W3C `traceparent` (fetch instrumentation), so the gateway continues
 * the browser's trace; spans are exported only when the gateway says a Collector is behind its pass-through
 * (`browserTracing`), so a stack without one sees no failed exports.
 */
export function startTracing(config: ShopConfig): void {
  const exporting = config.browserTracing;
  const provider = new WebTracerProvider({
    resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: 'storefront', [ATTR_SERVICE_VERSION]: '0.1.0' }),
    spanProcessors: exporting
      ? [new BatchSpanProcessor(new OTLPTraceExporter({ url: new URL(OTLP_TRACES_PATH, window.location.origin).href }), { scheduledDelayMillis: 500 })]
      : [],
  });
  provider.register();
  registerInstrumentations({
    tracerProvider: provider,
    instrumentations: [
      new FetchInstrumentation({
        // The exporter's own requests must not be traced (each export would make a span to export).
        ignoreUrls: [new RegExp(`${OTLP_TRACES_PATH.replace(/\//g, '\\/')}$`), /\/api\/config$/],
        clearTimingResources: true,
      }),
      ...(exporting ? [new DocumentLoadInstrumentation()] : []),
    ],
  });
}

/**
 * Runs `action` inside a new root span (a click: `checkout`), so the API calls it makes are its children and
 * the whole saga hangs off the click. The action gets the span to read its trace id.
 */
export async function inRootSpan<T>(name: string, attributes: Record<string, string | number>, action: (span: Span) => Promise<T>): Promise<T> {
  const span = trace.getTracer(TRACER).startSpan(name, { root: true, attributes });
  try {
    // context.with runs `action` synchronously up to its first await: its fetch sees the span.
    const result = await context.with(trace.setSpan(ROOT_CONTEXT, span), () => action(span));
    span.setStatus({ code: SpanStatusCode.OK });
    return result;
  } catch (err) {
    span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
    throw err;
  } finally {
    span.end();
  }
}

/** The trace id of a span that is really recorded (not the no-op span of an unregistered API). */
export function recordedTraceId(span: Span): string | undefined {
  const { traceId } = span.spanContext();
  return /^[0-9a-f]{32}$/.test(traceId) && !/^0+$/.test(traceId) ? traceId : undefined;
}
