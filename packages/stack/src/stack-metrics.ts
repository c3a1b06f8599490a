import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, Registry } from 'prom-client';

/** Where `npm start` serves the stack's own /metrics (tests take a free port); scraped by the local Prometheus as job `stack`. */
export const DEFAULT_STACK_METRICS_PORT = 9400;
/** The local Prometheus job of the stack's own metrics (the process that called startStack). */
export const STACK_METRICS_JOB = 'stack';

/**
 * `tracemart_process_restarts_total{process}`: restarts of a process of the local stack by its supervisor (a crash, a
 * `kill -9` from outside), not `restart(name)` or `stop()`. Every process starts at 0, so `increase()` sees the first.
 * The cluster's counterpart is kube-state-metrics' `kube_pod_container_status_restarts_total`.
 */
export function processRestartsCounter(registry: Registry): Counter<'process'> {
  return new Counter({
    name: 'tracemart_process_restarts_total',
    help: 'Restarts of a process of the local stack by its supervisor after it exited unexpectedly ({restart}).',
    labelNames: ['process'],
    registers: [registry],
  });
}

export interface MetricsServer {
  /** `http://127.0.0.1:<port>` (GET /metrics). */
  url: string;
  port: number;
  close: () => Promise<void>;
}

/** Serves `registry` on 127.0.0.1:`port`/metrics (0: a free port). */
export async function serveMetrics(registry: Registry, port: number): Promise<MetricsServer> {
  const server = createServer((req, res) => {
    if (req.method !== 'GET' || req.url?.split('?')[0] !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    registry.metrics().then(
      (body) => res.writeHead(200, { 'content-type': registry.contentType }).end(body),
      (err: unknown) => res.writeHead(500).end(String(err)),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${bound}`,
    port: bound,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
