import type { PrometheusExporter } from '@opentelemetry/exporter-prometheus';

/** What the preloaded SDK hands to application code: the /metrics handler and a flush on shutdown. */
export interface TelemetryHandle {
  enabled: boolean;
  prometheus?: PrometheusExporter;
  shutdown: () => Promise<void>;
}

const key = Symbol.for('tracemart.telemetry');
type WithHandle = typeof globalThis & { [key]?: TelemetryHandle };

export function setTelemetryHandle(handle: TelemetryHandle): void {
  (globalThis as WithHandle)[key] = handle;
}

export function getTelemetryHandle(): TelemetryHandle {
  return (globalThis as WithHandle)[key] ?? { enabled: false, shutdown: async () => undefined };
}
