import { resolve } from 'node:path';
import { z } from 'zod';
import { adminTokenSchema, baseConfigSchema } from '@tracemart/platform';

/** A comma-separated list of base URLs: several instances of one upstream are load-balanced. */
const upstream = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((value) =>
      value
        .split(',')
        .map((url) => url.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.url()).min(1));

/** An optional URL; empty counts as unset (a Kubernetes env entry or a shell export may leave one empty). */
const optionalUrl = z.preprocess((value) => (value === '' ? undefined : value), z.url({ protocol: /^https?$/, error: 'an http(s) URL' }).optional());

/** Where the storefront's Vite build is found: `storefront/dist` at the repo root, which is `/app/storefront/dist` in the image. */
const DEFAULT_STOREFRONT_DIR = resolve(__dirname, '../../storefront/dist');

export const configSchema = baseConfigSchema.extend({
  SERVICE_NAME: z.string().default('gateway'),
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  /**
   * The listener serving /metrics (for Prometheus), apart from the public port: the gateway's metrics (routes,
   * upstream addresses, 400 KB a scrape) are nobody's business on the internet. 0: any free port.
   */
  METRICS_PORT: z.coerce.number().int().min(0).max(65535).default(9464),
  JWT_SECRET: z.string().min(32, 'JWT_SECRET must be at least 32 characters'),
  UPSTREAM_TIMEOUT_MS: z.coerce.number().int().positive().default(5_000),
  USER_URL: upstream('http://127.0.0.1:3001'),
  CATALOG_URL: upstream('http://127.0.0.1:3002'),
  ORDER_URL: upstream('http://127.0.0.1:3003'),
  INVENTORY_URL: upstream('http://127.0.0.1:3004'),
  PAYMENT_URL: upstream('http://127.0.0.1:3005'),
  NOTIFICATION_URL: upstream('http://127.0.0.1:3006'),
  /** The admin API credential (x-admin-token); unset turns the admin API off. */
  ADMIN_TOKEN: adminTokenSchema,
  /** Whole-request budget across queueing, attempts and backoff. */
  REQUEST_DEADLINE_MS: z.coerce.number().int().positive().default(10_000),
  /** Circuit breaker per upstream (the call timeout is UPSTREAM_TIMEOUT_MS). */
  BREAKER_ERROR_PERCENT: z.coerce.number().int().min(1).max(100).default(50),
  BREAKER_VOLUME_THRESHOLD: z.coerce.number().int().min(1).default(10),
  BREAKER_RESET_MS: z.coerce.number().int().positive().default(5_000),
  BREAKER_WINDOW_MS: z.coerce.number().int().positive().default(10_000),
  /** Bulkhead per upstream: concurrent calls, then a bounded queue, then 503. */
  BULKHEAD_MAX_CONCURRENT: z.coerce.number().int().positive().default(64),
  BULKHEAD_MAX_QUEUE: z.coerce.number().int().min(0).default(128),
  /** Retries of idempotent requests: total attempts and the backoff's base and cap. */
  RETRY_ATTEMPTS: z.coerce.number().int().min(1).max(10).default(3),
  RETRY_BASE_MS: z.coerce.number().int().min(0).default(50),
  RETRY_MAX_MS: z.coerce.number().int().min(0).default(1_000),
  /**
   * Proxies in front of the gateway (addresses or CIDR ranges, comma-separated) whose X-Forwarded-For is believed;
   * empty (the default): the client address is the connection's, whatever the header says.
   */
  TRUSTED_PROXIES: z
    .string()
    .default('')
    .transform((value) =>
      value
        .split(',')
        .map((entry) => entry.trim())
        .filter(Boolean),
    ),
  /** Per user (JWT sub) or client address; 0 turns rate limiting off. */
  RATE_LIMIT_PER_SECOND: z.coerce.number().min(0).default(100),
  RATE_LIMIT_BURST: z.coerce.number().int().min(1).default(200),
  /** Instance ejection: how long a failing instance sits out, and the active /readyz probe. */
  EJECTION_COOLDOWN_MS: z.coerce.number().int().positive().default(5_000),
  HEALTH_PROBE_INTERVAL_MS: z.coerce.number().int().positive().default(5_000),
  /** Payment health (the processor breaker, via GET /payments/health) gates checkout. */
  PAYMENT_PROBE_INTERVAL_MS: z.coerce.number().int().positive().default(500),
  PAYMENT_PROBE_TIMEOUT_MS: z.coerce.number().int().positive().default(300),
  /** Last-known-good product and stock answers kept for degraded reads. */
  STALE_CACHE_ENTRIES: z.coerce.number().int().min(0).default(2_000),
  /** The storefront's build (index.html and hashed assets/), served at `/`; a relative path is taken from the working directory. */
  STOREFRONT_DIR: z
    .string()
    .min(1)
    .default(DEFAULT_STOREFRONT_DIR)
    .transform((dir) => resolve(dir)),
  /**
   * Where POST /otlp/v1/traces forwards the browser's spans: the Collector's OTLP/HTTP traces endpoint. Unset: the
   * standard OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, else OTEL_EXPORTER_OTLP_ENDPOINT + `/v1/traces` (what the gateway's own
   * SDK exports to); none of them: browser tracing is off and the pass-through answers 404.
   */
  OTLP_TRACES_URL: optionalUrl,
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: optionalUrl,
  OTEL_EXPORTER_OTLP_ENDPOINT: optionalUrl,
  /** Largest OTLP request the pass-through forwards (bytes, as sent); larger is 413. */
  OTLP_BODY_LIMIT_BYTES: z.coerce
    .number()
    .int()
    .positive()
    .default(512 * 1024),
  /** Grafana's base URL as a browser reaches it (the cluster: http://localhost:3000): "see this trace" opens Explore on Tempo. */
  GRAFANA_URL: optionalUrl,
  /** VictoriaLogs' base URL (npm run telemetry): "see this trace" opens its UI filtered by the trace id. */
  LOGS_UI_URL: optionalUrl,
  /** Jaeger's query base URL (npm run telemetry): "see this trace" links the trace's JSON. */
  TRACES_URL: optionalUrl,
});
export type Config = z.infer<typeof configSchema>;

/** The Collector endpoint browser spans go to, or undefined when browser tracing is off (see OTLP_TRACES_URL). */
export function otlpTracesTarget(config: Pick<Config, 'OTLP_TRACES_URL' | 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT' | 'OTEL_EXPORTER_OTLP_ENDPOINT'>): string | undefined {
  if (config.OTLP_TRACES_URL) return config.OTLP_TRACES_URL;
  if (config.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) return config.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
  if (config.OTEL_EXPORTER_OTLP_ENDPOINT) return `${config.OTEL_EXPORTER_OTLP_ENDPOINT.replace(/\/+$/, '')}/v1/traces`;
  return undefined;
}
