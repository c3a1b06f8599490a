import { Agent } from 'undici';
import { createBaseApp, createLogger, FaultInjector, finishApp, Lifecycle, listen, type Logger, type Readiness } from '@tracemart/platform';
import type { Config } from './config';
import { gatewayAdminRouter } from './http/admin';
import { rateLimit } from './http/rate-limit';
import { API_PREFIX } from './http/route-table';
import { apiRoutes, type Upstreams } from './http/routes';
import { createUpstreamClient, type ResilienceSettings } from './upstream/forward';
import { createPaymentHealth } from './upstream/payment-health';

export interface RunningGateway {
  url: string;
  port: number;
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
  const app = createBaseApp({ logger, readiness, admin, faults, trustedProxies: config.TRUSTED_PROXIES });

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

  if (config.RATE_LIMIT_PER_SECOND > 0) {
    app.use(API_PREFIX, rateLimit({ ratePerSecond: config.RATE_LIMIT_PER_SECOND, burst: config.RATE_LIMIT_BURST, jwtSecret: config.JWT_SECRET }));
  }
  app.use(API_PREFIX, apiRoutes({ upstreams, jwtSecret: config.JWT_SECRET, payment, deadlineMs: config.REQUEST_DEADLINE_MS, staleEntries: config.STALE_CACHE_ENTRIES, logger }));
  finishApp(app, logger);
  const server = await listen(app, config.PORT, config.HOST);
  for (const upstream of Object.values(upstreams)) upstream.startProbing();
  payment.start();

  const lifecycle = new Lifecycle(logger, config.SHUTDOWN_TIMEOUT_MS);
  lifecycle.onShutdown('mark not ready', () => {
    readiness.ready = false;
  });
  lifecycle.onShutdown('close http', () => server.close());
  lifecycle.onShutdown('stop probes and breakers', async () => {
    payment.stop();
    for (const upstream of Object.values(upstreams)) upstream.dispose();
    faults.dispose();
    await agent.close();
  });
  readiness.ready = true;
  logger.info({ url: server.url }, 'gateway ready');
  return { url: server.url, port: server.port, logger, stop: (reason = 'stop') => lifecycle.shutdown(reason) };
}
