import express, { type Express, type RequestHandler } from 'express';
import { getTelemetryHandle } from '../telemetry/handle';

/** GET /metrics: the process's metrics in Prometheus text (the preloaded SDK's exporter). */
export const metricsHandler: RequestHandler = (req, res) => {
  const prometheus = getTelemetryHandle().prometheus;
  if (!prometheus) {
    res.type('text/plain').send('# telemetry disabled\n');
    return;
  }
  prometheus.getMetricsRequestHandler(req, res);
};

/**
 * An app serving only /metrics, for a listener of its own (METRICS_PORT): the gateway's public port must not hand its
 * metrics (routes, upstreams, instance addresses, 400 KB a scrape) to anyone on the internet.
 */
export function createMetricsApp(): Express {
  const app = express();
  app.disable('x-powered-by');
  app.get('/metrics', metricsHandler);
  app.use((_req, res) => {
    res.status(404).type('text/plain').send('not found\n');
  });
  return app;
}
