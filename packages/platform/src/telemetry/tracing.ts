import { SpanStatusCode, trace, type Span, type Tracer } from '@opentelemetry/api';

export function getTracer(name = 'tracemart'): Tracer {
  return trace.getTracer(name);
}

/** Marks a span failed the way the conventions ask: exception event, ERROR status, `error.type`. */
export function recordSpanError(span: Span, err: unknown): void {
  const error = err instanceof Error ? err : new Error(String(err));
  span.recordException(error);
  span.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
  span.setAttribute('error.type', (error as { code?: string }).code ?? error.name);
}

/** The id of the trace the caller is in, or undefined outside any span. */
export function currentTraceId(): string | undefined {
  const ctx = trace.getActiveSpan()?.spanContext();
  return ctx && ctx.traceId !== '00000000000000000000000000000000' ? ctx.traceId : undefined;
}
