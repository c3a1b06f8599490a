import { metrics, type Meter } from '@opentelemetry/api';

/**
 * Custom metrics use the OpenTelemetry API; the Prometheus reader renders them with the `tracemart_`
 * prefix, unit suffixes and `_total` for counters (e.g. `tracemart.orders.placed` -> `tracemart_orders_placed_total`).
 */
export function getMeter(name = 'tracemart'): Meter {
  return metrics.getMeter(name);
}
