import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadConfig, signAccessToken } from '@tracemart/platform';
import { configSchema } from '../src/config';
import { start, type RunningGateway } from '../src/start';

export const JWT_SECRET = 'test-secret-that-is-long-enough-0123456789';
/** The gateway's INTERNAL_AUTH_SECRET: stubs verify the identity assertions it forwards with it. */
export const INTERNAL_AUTH_SECRET = 'internal-test-secret-that-is-long-enough-0123';
export const ADMIN_TOKEN = 'test-admin-token';

export type StubHandler = (req: IncomingMessage, res: ServerResponse) => void;

/** A small real HTTP server standing in for one service instance at the network edge. */
export interface Stub {
  url: string;
  /** Requests seen, by path (probes included). */
  hits: (path?: string) => number;
  /** What the probes answer: /readyz 200 or 503, /payments/health `{processor}` (or 503 when undefined). */
  probes: { ready: boolean; processor: string | undefined };
  handle: (handler: StubHandler) => void;
  close: () => Promise<void>;
}

export const json = (res: ServerResponse, status: number, body: unknown) => {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
};

/** A stub that answers probes (200 /readyz, closed payment breaker) and 200 `{ok: true, path}` otherwise. */
export async function startStub(handler?: StubHandler): Promise<Stub> {
  const seen: string[] = [];
  let current: StubHandler =
    handler ??
    ((req, res) => {
      json(res, 200, { ok: true, path: req.url });
    });
  const probes: Stub['probes'] = { ready: true, processor: 'closed' };
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    seen.push(path);
    if (path === '/readyz') return json(res, probes.ready ? 200 : 503, {});
    if (path === '/payments/health') return probes.processor ? json(res, 200, { processor: probes.processor }) : json(res, 503, {});
    current(req, res);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    probes,
    hits: (path) => (path === undefined ? seen.filter((p) => p !== '/readyz' && p !== '/payments/health').length : seen.filter((p) => p === path).length),
    handle: (next) => {
      current = next;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** The gateway in-process on port 0; rate limiting off and probes slow unless a test asks otherwise. */
export async function startGateway(
  urls: Partial<Record<'USER_URL' | 'CATALOG_URL' | 'ORDER_URL' | 'INVENTORY_URL' | 'PAYMENT_URL' | 'NOTIFICATION_URL', string>>,
  env: Record<string, string> = {},
): Promise<RunningGateway> {
  const fallback = 'http://127.0.0.1:9';
  const config = loadConfig(configSchema, {
    PORT: '0',
    METRICS_PORT: '0',
    LOG_LEVEL: 'silent',
    JWT_SECRET,
    INTERNAL_AUTH_SECRET,
    ADMIN_TOKEN,
    USER_URL: fallback,
    CATALOG_URL: fallback,
    ORDER_URL: fallback,
    INVENTORY_URL: fallback,
    PAYMENT_URL: fallback,
    NOTIFICATION_URL: fallback,
    RATE_LIMIT_PER_SECOND: '0',
    HEALTH_PROBE_INTERVAL_MS: '60000',
    ...urls,
    ...env,
  });
  return start(config);
}

export const tokenFor = (sub: string) => signAccessToken({ sub, name: sub }, JWT_SECRET, 3600);

export async function call(url: string, init: RequestInit & { token?: string } = {}) {
  const { token, headers, ...rest } = init;
  const started = performance.now();
  const response = await fetch(url, {
    ...rest,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(rest.body ? { 'content-type': 'application/json' } : {}), ...(headers as Record<string, string>) },
    signal: AbortSignal.timeout(10_000),
  });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON
  }
  return { status: response.status, headers: response.headers, body: body as Record<string, unknown>, elapsedMs: performance.now() - started };
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function until(check: () => boolean | Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(20);
  }
}
