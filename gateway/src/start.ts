import { Agent } from 'undici';
import { createBaseApp, createLogger, createMetricsApp, FaultInjector, finishApp, Lifecycle, listen, type Logger, type Readiness } from '@tracemart/platform';
import { otlpTracesTarget, type Config } from './config';
import { gatewayAdminRouter } from './http/admin';
import { clientConfig } from './http/client-config';
import { apiFaults } from './http/fault-scope';
import { OTLP_TRACES_PATH, otlpPassThrough } from './http/otlp-proxy';
import { rateLimit } from './http/rate-limit';
import { readRawBody } from './http/raw-body';
import { API_PREFIX } from './http/route-table';
import { apiRoutes, type Upstreams } from './http/routes';
import { storefront } from './http/storefront';
import { createUpstreamClient, type ResilienceSettings } from './upstream/forward';
import { createPaymentHealth } from './upstream/payment-health';

export interface RunningGateway {
  url: string;
  port: number;
  /** The metrics listener (METRICS_PORT): `${metricsUrl}/metrics`; the public port answers 404 there. */
  metricsUrl: string;
  metricsPort: number;
  logger: Logger;
  stop: (reason?: string) => Promise<void>;
}

export async function start(config: Config, options: { logger?: Logger } = {}): Promise<RunningGateway> {
  const logger = options.logger ?? createLogger(config.SERVICE_NAME, config.LOG_LEVEL);
  const readiness: Readiness = { ready: false, checks: {} };
  const faults = new FaultInjector(config.SERVICE_NAME, logger);
  const services = {
    user: config.USER_URL,
    catalog: config.CATALOG_URL,
    order: config.ORDER_URL,
    inventory: config.INVENTORY_URL,
    payment: config.PAYMENT_URL,
    notification: config.NOTIFICATION_URL,
  };
  const admin = gatewayAdminRouter({ injector: faults, adminToken: config.ADMIN_TOKEN, services, logger });
  // Faults are applied below, to the API only (fault-scope.ts), not by the scaffold to every route.
  const app = createBaseApp({ logger, readiness, admin, trustedProxies: config.TRUSTED_PROXIES, metrics: false, rawBodyPaths: [OTLP_TRACES_PATH] });
  const otlpTarget = otlpTracesTarget(config);
  const shopConfig = clientConfig({ otlpTarget, grafanaUrl: config.GRAFANA_URL, logsUiUrl: config.LOGS_UI_URL, tracesUrl: config.TRACES_URL });

  const settings: ResilienceSettings = {
    timeoutMs: config.UPSTREAM_TIMEOUT_MS,
    breaker: {
      errorThresholdPercentage: config.BREAKER_ERROR_PERCENT,
      volumeThreshold: config.BREAKER_VOLUME_THRESHOLD,
      resetTimeoutMs: config.BREAKER_RESET_MS,
      rollingWindowMs: config.BREAKER_WINDOW_MS,
    },
    bulkhead: { maxConcurrent: config.BULKHEAD_MAX_CONCURRENT, maxQueue: config.BULKHEAD_MAX_QUEUE },
    retry: { attempts: config.RETRY_ATTEMPTS, baseMs: config.RETRY_BASE_MS, maxMs: config.RETRY_MAX_MS },
    ejection: { cooldownMs: config.EJECTION_COOLDOWN_MS, probeIntervalMs: config.HEALTH_PROBE_INTERVAL_MS },
  };
  const agent = new Agent({ keepAliveTimeout: 30_000, connections: 128, headersTimeout: config.UPSTREAM_TIMEOUT_MS, bodyTimeout: config.UPSTREAM_TIMEOUT_MS });
  const client = (name: keyof typeof services) => createUpstreamClient({ name, urls: services[name] }, settings, { agent, logger });
  const upstreams: Upstreams = {
    user: client('user'),
    catalog: client('catalog'),
    order: client('order'),
    inventory: client('inventory'),
    payment: client('payment'),
    notification: client('notification'),
  };
  const payment = createPaymentHealth({ urls: config.PAYMENT_URL, intervalMs: config.PAYMENT_PROBE_INTERVAL_MS, timeoutMs: config.PAYMENT_PROBE_TIMEOUT_MS, agent, logger });

  app.use(apiFaults(faults));
  if (config.RATE_LIMIT_PER_SECOND > 0) {
    const limits = { ratePerSecond: config.RATE_LIMIT_PER_SECOND, burst: config.RATE_LIMIT_BURST, jwtSecret: config.JWT_SECRET };
    app.use(API_PREFIX, rateLimit(limits));
    // The browser's span exports: a bucket of their own per client, at the API's rate.
    app.use(OTLP_TRACES_PATH, rateLimit(limits));
  }
  app.use(
    API_PREFIX,
    apiRoutes({
      upstreams,
      jwtSecret: config.JWT_SECRET,
      internalAuthSecret: config.INTERNAL_AUTH_SECRET,
      payment,
      deadlineMs: config.REQUEST_DEADLINE_MS,
      staleEntries: config.STALE_CACHE_ENTRIES,
      logger,
      ownRoutes: {
        getClientConfig: (_req, res) => {
          res.setHeader('cache-control', 'no-cache');
          res.json(shopConfig);
        },
      },
    }),
  );
  // After its rate limit (above): a refused client's body is not read.
  app.post(
    OTLP_TRACES_PATH,
    readRawBody(config.OTLP_BODY_LIMIT_BYTES),
    otlpPassThrough({ target: otlpTarget, limitBytes: config.OTLP_BODY_LIMIT_BYTES, agent, timeoutMs: config.UPSTREAM_TIMEOUT_MS, logger }),
  );
  // After the API: no /api request ever reaches the disk.
  app.use(storefront({ dir: config.STOREFRONT_DIR }));
  finishApp(app, logger);
  const metricsServer = await listen(createMetricsApp(), config.METRICS_PORT, config.HOST);
  const server = await listen(app, config.PORT, config.HOST).catch(async (err: unknown) => {
    await metricsServer.close();
    throw err;
  });
  for (const upstream of Object.values(upstreams)) upstream.startProbing();
  payment.start();

  const lifecycle = new Lifecycle(logger, config.SHUTDOWN_TIMEOUT_MS);
  lifecycle.onShutdown('mark not ready', () => {
    readiness.ready = false;
  });
  lifecycle.onShutdown('close http', () => server.close());
  // Last of the listeners: the final scrape may still come while requests finish.
  lifecycle.onShutdown('close metrics listener', () => metricsServer.close());
  lifecycle.onShutdown('stop probes and breakers', async () => {
    payment.stop();
    for (const upstream of Object.values(upstreams)) upstream.dispose();
    faults.dispose();
    await agent.close();
  });
  readiness.ready = true;
  logger.info({ url: server.url, storefront: config.STOREFRONT_DIR, otlpTarget: otlpTarget ?? null, traceLinks: shopConfig.traceLinks.map((link) => link.label) }, 'gateway ready');
  return { url: server.url, port: server.port, metricsUrl: metricsServer.url, metricsPort: metricsServer.port, logger, stop: (reason = 'stop') => lifecycle.shutdown(reason) };
}
