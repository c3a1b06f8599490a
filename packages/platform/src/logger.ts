import { context, isSpanContextValid, trace } from '@opentelemetry/api';
import pino, { type Logger } from 'pino';

export type { Logger } from 'pino';

/**
 * JSON logs, one event per line. Every line written inside an active span carries `trace_id` and
 * `span_id`, which is what links Loki lines to Tempo traces. Secrets are redacted by path as a second
 * line of defence; the first is never logging payloads.
 */
export function createLogger(serviceName: string, level: string = 'info'): Logger {
  return pino({
    level,
    base: { 'service.name': serviceName, pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    messageKey: 'msg',
    formatters: { level: (label) => ({ level: label }) },
    redact: {
      paths: ['password', '*.password', 'token', '*.token', 'paymentToken', '*.paymentToken', 'authorization', '*.authorization', 'req.headers.authorization', 'email', '*.email'],
      censor: '[redacted]',
    },
    mixin() {
      const span = trace.getSpan(context.active());
      if (!span) return {};
      const ctx = span.spanContext();
      if (!isSpanContextValid(ctx)) return {};
      return { trace_id: ctx.traceId, span_id: ctx.spanId, trace_flags: `0${ctx.traceFlags.toString(16)}` };
    },
  });
}
