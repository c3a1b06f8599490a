import type { EventEmitter } from 'node:events';
import autocannon from 'autocannon';
import { loopbackBaseUrl } from './http';
import type { MetricStore, Tags } from './metrics';

/**
 * Request streams through autocannon: one request per slot, no journey logic, so autocannon's raw
 * socket client can drive them cheaply. Every answer is recorded into the MetricStore with the same
 * metric names and tags as the journeys' HttpClient (http_req_duration, http_req_failed, http_reqs,
 * checks), because autocannon's own histogram has no p95 and no tags.
 *
 *   paced (ratePerS): the open model approximated with autocannon's rate limit. autocannon lets each
 *     connection send its quota at the start of every second, so a single instance at 10/s sends a
 *     burst of 10 each second; instead this starts one single-connection instance per request slot,
 *     offset by 1/rate, each at 1/s (rates above MAX_PACED_CONNECTIONS/s share the connections), so
 *     arrivals are spread evenly. Each instance sends a fixed `amount`, so `offered` is exact; an
 *     answer slower than its slot delays that connection's next request (autocannon does not drop),
 *     which the result reports as `late`.
 *   closed (connections): autocannon's normal mode, each connection sending its next request as soon as
 *     the last one is answered: throughput.
 */

export interface StreamRequest {
  /** Low-cardinality endpoint name, the `name` tag. */
  name: string;
  method?: 'GET' | 'POST' | 'PUT' | 'DELETE';
  path: string;
  headers?: Record<string, string>;
  body?: string;
  /** More tags for this request. */
  tags?: Tags;
  /** Statuses that are not failures; default 200–399. */
  expected?: number[];
  /** Check names and predicates on the answer, recorded in `checks` as k6's check() would. */
  checks?: Record<string, (answer: { status: number; headers: Record<string, string> }) => boolean>;
}

export interface StreamOptions {
  baseUrl: string;
  metrics: MetricStore;
  /** Tags on every sample, e.g. `{ phase: 'outage', kind: 'catalog' }`. */
  tags: Tags;
  /** The next request for connection `connection` (0-based); called once per request. */
  next: (connection: number) => StreamRequest;
  durationS: number;
  /** Paced mode: requests per second, spread evenly. */
  ratePerS?: number;
  /** Closed mode: concurrent connections, no rate limit. */
  connections?: number;
  timeoutS?: number;
  signal?: AbortSignal;
}

export interface StreamResult {
  mode: 'paced' | 'closed';
  /** Paced mode: the rate sent, whole requests per second (autocannon's quota is per second). */
  ratePerS: number;
  /** Paced mode: requests the schedule asked for. */
  offered: number;
  /** Requests answered (any status) and requests that got no answer (connection error or timeout). */
  answered: number;
  errors: number;
  timeouts: number;
  /** Paced mode: answers slower than one slot of their connection (its next request went out late). */
  late: number;
  /** Answers received within `durationS` of the start (autocannon stops at its next 1 s tick after it). */
  answeredInDuration: number;
  elapsedS: number;
  connections: number;
}

/** Above this many requests per second, paced connections send more than one request per second each. */
export const MAX_PACED_CONNECTIONS = 50;

const isExpected = (status: number, expected: number[] | undefined) => (expected ? expected.includes(status) : status >= 200 && status < 400);

interface ClientState {
  /**
   * Requests sent on this connection and not yet answered, oldest first. A FIFO, not "the current request":
   * on a timeout autocannon reconnects and sends the next request before it emits 'timeout', so the request
   * that timed out is the oldest one, not the newest.
   */
  inflight: StreamRequest[];
  status?: number;
  headers?: Record<string, string>;
}

function lowerCaseHeaders(headers: Record<string, string | string[]>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : String(v);
  return out;
}

/** One autocannon instance; resolves when it has finished (or was stopped). */
function runInstance(
  options: StreamOptions,
  instanceOpts: { connections: number; connectionRate?: number; amount?: number; durationS?: number; firstConnection: number },
  counters: { answered: number; answeredInDuration: number; errors: number; timeouts: number; late: number },
  endsAt: number,
): { done: Promise<void>; stop: () => void } {
  const { metrics } = options;
  const url = new URL(loopbackBaseUrl(options.baseUrl));
  let clientIndex = 0;
  const slotMs = instanceOpts.connectionRate ? 1000 / instanceOpts.connectionRate : Infinity;
  const record = (state: ClientState, status: number, ms: number) => {
    // Once per request: a connection error and the reconnect that follows must not count it twice.
    const request = state.inflight.shift();
    if (!request) return;
    const tags: Tags = { ...options.tags, ...request.tags, name: request.name };
    const withStatus = { ...tags, status: String(status) };
    metrics.trend('http_req_duration', ms, withStatus);
    metrics.rate('http_req_failed', status === 0 || !isExpected(status, request.expected), withStatus);
    metrics.counter('http_reqs', 1, withStatus);
    if (status === 0) return;
    for (const [name, predicate] of Object.entries(request.checks ?? {})) {
      metrics.rate('checks', predicate({ status, headers: state.headers ?? {} }), { ...tags, check: name });
    }
  };
  const opts: autocannon.Options = {
    url: url.origin,
    connections: instanceOpts.connections,
    ...(instanceOpts.connectionRate ? { connectionRate: instanceOpts.connectionRate } : {}),
    ...(instanceOpts.amount ? { amount: instanceOpts.amount } : { duration: instanceOpts.durationS ?? options.durationS }),
    timeout: options.timeoutS ?? 10,
    // The requests are installed per connection in setupClient, with that connection's state.
    requests: [{ method: 'GET', path: '/' }],
    setupClient: (client) => {
      const connection = instanceOpts.firstConnection + clientIndex++;
      const state: ClientState = { inflight: [] };
      client.setRequests([
        {
          setupRequest: (req) => {
            const next = options.next(connection);
            state.inflight.push(next);
            state.status = undefined;
            state.headers = undefined;
            return {
              ...req,
              method: next.method ?? 'GET',
              path: next.path,
              headers: { accept: 'application/json', ...(next.body !== undefined ? { 'content-type': 'application/json' } : {}), ...next.headers },
              ...(next.body !== undefined ? { body: next.body } : {}),
            };
          },
          onResponse: (status, _body, _context, headers) => {
            state.status = status;
            state.headers = lowerCaseHeaders((headers ?? {}) as Record<string, string | string[]>);
          },
        },
      ]);
      client.on('response', (status: number, _bytes: number, responseTime: number) => {
        counters.answered += 1;
        if (performance.now() <= endsAt) counters.answeredInDuration += 1;
        if (responseTime > slotMs) counters.late += 1;
        record(state, status, responseTime);
      });
      // autocannon's Client also emits 'timeout' and 'connError' (lib/httpClient.js), which its typings
      // leave out; they say which request failed, so the failure is recorded under its name.
      const events = client as unknown as EventEmitter;
      events.on('timeout', () => record(state, 0, (options.timeoutS ?? 10) * 1000));
      events.on('connError', () => record(state, 0, 0));
    },
  };
  let resolveDone: () => void = () => undefined;
  const done = new Promise<void>((resolve) => {
    resolveDone = resolve;
  });
  const instance = autocannon(opts, () => resolveDone());
  instance.on('reqError', (err: unknown) => {
    counters.errors += 1;
    if (err instanceof Error && /timed out/.test(err.message)) counters.timeouts += 1;
  });
  instance.on('error', () => resolveDone());
  return { done, stop: () => instance.stop() };
}

/** Runs one stream to its end (or until `signal` aborts it) and returns what was sent and answered. */
export async function runStream(options: StreamOptions): Promise<StreamResult> {
  loopbackBaseUrl(options.baseUrl);
  const counters = { answered: 0, answeredInDuration: 0, errors: 0, timeouts: 0, late: 0 };
  const began = performance.now();
  const endsAt = began + options.durationS * 1000;
  const stops: (() => void)[] = [];
  const runs: Promise<void>[] = [];
  let offered = 0;
  let connections = 0;
  const mode = options.ratePerS !== undefined ? 'paced' : 'closed';
  // Hard bound: the run's length plus one request timeout plus slack.
  const hardStopMs = (options.durationS + (options.timeoutS ?? 10) + 5) * 1000;
  const timers: NodeJS.Timeout[] = [];
  const stopAll = () => stops.forEach((stop) => stop());
  options.signal?.addEventListener('abort', stopAll, { once: true });
  try {
    if (mode === 'paced') {
      const rate = options.ratePerS ?? 0;
      if (!(rate > 0)) throw new Error(`runStream: ratePerS must be positive, got ${rate}`);
      // Whole requests per second per connection: autocannon's quota is per second.
      const perSecond = Math.max(1, Math.round(rate));
      connections = Math.min(perSecond, MAX_PACED_CONNECTIONS);
      for (let c = 0; c < connections; c++) {
        const connectionRate = Math.floor(perSecond / connections) + (c < perSecond % connections ? 1 : 0);
        const offsetMs = (c * 1000) / connections;
        // Slots of this connection within the duration: at offset, offset + 1 s, … (connectionRate per second).
        const amount = Math.max(0, Math.ceil(options.durationS - offsetMs / 1000 - 1e-9)) * connectionRate;
        if (amount === 0) continue;
        offered += amount;
        runs.push(
          new Promise<void>((resolve) => {
            const timer = setTimeout(() => {
              if (options.signal?.aborted) return resolve();
              const run = runInstance(options, { connections: 1, connectionRate, amount, firstConnection: c }, counters, endsAt);
              stops.push(run.stop);
              void run.done.then(resolve);
            }, offsetMs);
            timers.push(timer);
          }),
        );
      }
    } else {
      connections = Math.max(1, options.connections ?? 1);
      const run = runInstance(options, { connections, durationS: options.durationS, firstConnection: 0 }, counters, endsAt);
      stops.push(run.stop);
      runs.push(run.done);
    }
    const hardStop = setTimeout(stopAll, hardStopMs);
    timers.push(hardStop);
    await Promise.race([Promise.all(runs), new Promise<void>((resolve) => setTimeout(resolve, hardStopMs + 2_000).unref())]);
  } finally {
    timers.forEach((t) => clearTimeout(t));
    options.signal?.removeEventListener('abort', stopAll);
  }
  return { mode, ratePerS: mode === 'paced' ? Math.max(1, Math.round(options.ratePerS ?? 0)) : 0, offered, ...counters, elapsedS: (performance.now() - began) / 1000, connections };
}
