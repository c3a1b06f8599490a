import { Agent, request as undiciRequest } from 'undici';
import type { MetricStore, Tags } from './metrics';

/**
 * The journeys' HTTP client (the steps of a checkout, the smoke tour, fault injection): undici with
 * keep-alive, recording every request as k6 does, so the thresholds read the same metrics.
 *   http_req_duration (trend, ms)  tags: name, kind, status, and the caller's (phase, journey, …)
 *   http_req_failed   (rate)       status outside `expected` (default 200–399), or no answer (status 0)
 *   http_reqs         (counter)
 *   tracemart_shed_requests (counter)      429/503 answers
 *   tracemart_ungraceful_failures (rate)   no answer, or a 5xx that is not a 503 with Retry-After
 * Request streams that only need throughput and latency go through autocannon instead (stream.ts).
 */

const LOOPBACK_HOST = /^(localhost|127(\.\d{1,3}){3}|\[::1\])$/;

/** `http://127.0.0.1:8080` without a trailing slash; anything but a loopback address is refused. */
export function loopbackBaseUrl(raw: string, name = 'BASE_URL'): string {
  const match = /^(https?):\/\/([^/:]+|\[[^\]]+\])(:\d+)?\/?$/.exec(raw);
  if (!match?.[2]) throw new Error(`${name} must look like http://127.0.0.1:8080 (no path), got "${raw}"`);
  // Load traffic may only ever hit this machine.
  if (!LOOPBACK_HOST.test(match[2])) throw new Error(`${name} must point at a loopback address (127.0.0.0/8, localhost, [::1]), got "${raw}"`);
  return raw.replace(/\/$/, '');
}

export interface RequestOptions {
  /** Low-cardinality endpoint name, e.g. `GET /api/products/:id`. */
  name: string;
  kind: string;
  token?: string | undefined;
  body?: unknown;
  headers?: Record<string, string>;
  tags?: Tags;
  /** Statuses that are not failures (k6's `http.expectedStatuses`); default 200–399. */
  expected?: number[];
  timeoutMs?: number;
}

export interface Response {
  status: number;
  /** Lower-case header names. */
  headers: Record<string, string>;
  body: string;
  durationMs: number;
  /** Why there was no answer (status 0). */
  error?: string;
}

/** The parsed JSON body, or null when there is none or it is not JSON. */
export function json<T = unknown>(res: Response): T | null {
  try {
    return res.body ? (JSON.parse(res.body) as T) : null;
  } catch {
    return null;
  }
}

/** 429/503 are the gateway shedding load on purpose: they must say when to come back. */
export function isGracefulRejection(res: Pick<Response, 'status' | 'headers'>): boolean {
  return (res.status === 429 || res.status === 503) && Boolean(res.headers['retry-after']);
}

const isExpected = (status: number, expected: number[] | undefined) => (expected ? expected.includes(status) : status >= 200 && status < 400);

export class HttpClient {
  private readonly agent: Agent;

  constructor(
    readonly baseUrl: string,
    private readonly metrics: MetricStore,
    options: { connections?: number } = {},
  ) {
    this.baseUrl = loopbackBaseUrl(baseUrl);
    this.agent = new Agent({ connections: options.connections ?? 256, keepAliveTimeout: 10_000, pipelining: 1 });
  }

  async request(method: string, path: string, opts: RequestOptions): Promise<Response> {
    const headers: Record<string, string> = { accept: 'application/json', ...opts.headers };
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    let payload: string | undefined;
    if (opts.body !== undefined) {
      headers['content-type'] = 'application/json';
      payload = JSON.stringify(opts.body);
    }
    const timeoutMs = opts.timeoutMs ?? 10_000;
    const started = performance.now();
    let res: Response;
    try {
      const answer = await undiciRequest(`${this.baseUrl}${path}`, {
        method: method as 'GET',
        headers,
        body: payload,
        dispatcher: this.agent,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
        signal: AbortSignal.timeout(timeoutMs),
      });
      const body = await answer.body.text();
      const flat: Record<string, string> = {};
      for (const [k, v] of Object.entries(answer.headers)) if (v !== undefined) flat[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
      res = { status: answer.statusCode, headers: flat, body, durationMs: performance.now() - started };
    } catch (err) {
      res = { status: 0, headers: {}, body: '', durationMs: performance.now() - started, error: err instanceof Error ? err.message : String(err) };
    }
    this.record(res, opts);
    return res;
  }

  get(path: string, opts: RequestOptions): Promise<Response> {
    return this.request('GET', path, opts);
  }

  post(path: string, body: unknown, opts: RequestOptions): Promise<Response> {
    return this.request('POST', path, { ...opts, body });
  }

  del(path: string, opts: RequestOptions): Promise<Response> {
    return this.request('DELETE', path, opts);
  }

  private record(res: Response, opts: RequestOptions): void {
    const tags: Tags = { name: opts.name, kind: opts.kind, ...opts.tags };
    const withStatus = { ...tags, status: String(res.status) };
    this.metrics.trend('http_req_duration', res.durationMs, withStatus);
    // A k6 Rate counts true as a "pass": the rate of http_req_failed is the share that failed.
    this.metrics.rate('http_req_failed', res.status === 0 || !isExpected(res.status, opts.expected), withStatus);
    this.metrics.counter('http_reqs', 1, withStatus);
    if (res.status === 429 || res.status === 503) this.metrics.counter('tracemart_shed_requests', 1, withStatus);
    this.metrics.rate('tracemart_ungraceful_failures', (res.status === 0 || res.status >= 500) && !isGracefulRejection(res), tags);
  }

  async close(): Promise<void> {
    await this.agent.close();
  }
}
