import { Agent, request } from 'undici';
import {
  AppError,
  breakerState,
  Bulkhead,
  cancellableTimeout,
  createBreaker,
  getMeter,
  isBreakerOpenError,
  isBreakerTimeoutError,
  retry,
  type BreakerState,
  type Logger,
} from '@tracemart/platform';
import { InstancePool, type Instance } from './pool';

export interface Upstream {
  name: string;
  urls: string[];
}

export interface OutgoingRequest {
  method: string;
  /** Path and query, as the service sees them. */
  path: string;
  headers: Record<string, string>;
  body: string | null;
}

export interface UpstreamResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

export interface ResilienceSettings {
  timeoutMs: number;
  breaker: { errorThresholdPercentage: number; volumeThreshold: number; resetTimeoutMs: number; rollingWindowMs: number };
  bulkhead: { maxConcurrent: number; maxQueue: number };
  retry: { attempts: number; baseMs: number; maxMs: number };
  ejection: { cooldownMs: number; probeIntervalMs: number };
}

/** A 5xx answer: a failure for the breaker, retries and ejection; passed through to the client at the end. */
export class UpstreamHttpError extends Error {
  override name = 'UpstreamHttpError';
  constructor(readonly response: UpstreamResponse) {
    super(`upstream answered ${response.status}`);
  }
}

/** Response headers passed back to clients. */
/** Response headers passed to clients; `idempotent-replayed` tells a client its retry got the first answer. */
const forwardedResponseHeaders = ['content-type', 'location', 'retry-after', 'cache-control', 'idempotent-replayed'];
/** 5xx answers worth another attempt: the instance or something in front of it was unavailable. */
const RETRYABLE_STATUS = new Set([502, 503, 504]);

const meter = getMeter();
/** Retried upstream calls, by upstream. */
const retries = meter.createCounter('tracemart.retries', { unit: '{retry}', description: 'Retried calls to a dependency' });
/** Requests refused because an upstream's bulkhead (concurrency + queue) was full, by upstream. */
const bulkheadRejections = meter.createCounter('tracemart.bulkhead.rejections', { unit: '{request}', description: 'Requests rejected by a full bulkhead' });

/**
 * One upstream service behind the gateway's resilience stack, outermost first: bulkhead (bounded
 * concurrency and queue) -> retries with backoff and full jitter (idempotent requests only, within the
 * request's deadline) -> circuit breaker (opossum; call timeout, error percentage, volume, reset) ->
 * one instance, round robin, skipping ejected ones. Trace context is injected by the undici
 * auto-instrumentation, so the service's spans join the gateway's trace.
 */
export function createUpstreamClient(upstream: Upstream, settings: ResilienceSettings, deps: { agent: Agent; logger: Logger }) {
  const { agent, logger } = deps;
  const pool = new InstancePool(upstream.name, upstream.urls, { cooldownMs: settings.ejection.cooldownMs, logger });
  const bulkhead = new Bulkhead({
    name: upstream.name,
    maxConcurrent: settings.bulkhead.maxConcurrent,
    maxQueue: settings.bulkhead.maxQueue,
    onReject: () => bulkheadRejections.add(1, { upstream: upstream.name }),
  });

  async function attempt(instance: Instance, outgoing: OutgoingRequest, deadline: number): Promise<UpstreamResponse> {
    const budget = Math.min(settings.timeoutMs, deadline - Date.now());
    if (budget <= 0) throw new DeadlineError();
    const timeout = cancellableTimeout(budget);
    try {
      const answer = await request(`${instance.url}${outgoing.path}`, {
        method: outgoing.method as 'GET',
        headers: outgoing.headers,
        body: outgoing.body,
        dispatcher: agent,
        signal: timeout.signal,
      });
      const headers: Record<string, string> = {};
      for (const name of forwardedResponseHeaders) {
        const value = answer.headers[name];
        if (typeof value === 'string') headers[name] = value;
      }
      const response = { status: answer.statusCode, headers, body: Buffer.from(await answer.body.arrayBuffer()) };
      if (response.status >= 500) throw new UpstreamHttpError(response);
      return response;
    } finally {
      timeout.clear();
    }
  }

  const breaker = createBreaker(attempt, {
    name: upstream.name,
    timeoutMs: settings.timeoutMs,
    errorThresholdPercentage: settings.breaker.errorThresholdPercentage,
    volumeThreshold: settings.breaker.volumeThreshold,
    resetTimeoutMs: settings.breaker.resetTimeoutMs,
    rollingWindowMs: settings.breaker.rollingWindowMs,
    // Running out of the caller's own budget says nothing about the upstream.
    isNeutral: (err) => err instanceof DeadlineError,
    logger,
  });

  async function once(outgoing: OutgoingRequest, deadline: number): Promise<UpstreamResponse> {
    const instance = pool.pick();
    try {
      return await breaker.fire(instance, outgoing, deadline);
    } catch (err) {
      if (!isBreakerOpenError(err) && !(err instanceof DeadlineError)) pool.reportFailure(instance, describe(err));
      throw err;
    }
  }

  let probeTimer: NodeJS.Timeout | undefined;
  async function probe(): Promise<void> {
    await Promise.all(
      pool.instances.map(async (instance) => {
        try {
          const answer = await request(`${instance.url}/readyz`, { dispatcher: agent, signal: AbortSignal.timeout(1_000) });
          await answer.body.dump();
          pool.reportProbe(instance, answer.statusCode === 200);
        } catch {
          pool.reportProbe(instance, false);
        }
      }),
    );
  }

  return {
    name: upstream.name,
    pool,
    /**
     * Sends one request. `retryable` is the caller's judgement that the request is idempotent; `deadline`
     * (epoch ms) bounds queueing, attempts and backoff together.
     */
    async call(outgoing: OutgoingRequest, options: { retryable: boolean; deadline: number }): Promise<UpstreamResponse> {
      const { deadline } = options;
      // Bounds the wait for a bulkhead slot; called off as soon as the call is over.
      const queueTimeout = cancellableTimeout(Math.max(1, deadline - Date.now()));
      try {
        return await bulkhead.run(
          () =>
            retry(() => once(outgoing, deadline), {
              attempts: options.retryable ? settings.retry.attempts : 1,
              baseMs: settings.retry.baseMs,
              maxMs: settings.retry.maxMs,
              deadline,
              shouldRetry: isRetryable,
              onRetry: (err, attemptNo, delayMs) => {
                retries.add(1, { upstream: upstream.name });
                logger.debug({ upstream: upstream.name, attempt: attemptNo + 1, delayMs, reason: describe(err) }, 'retrying upstream call');
              },
            }),
          queueTimeout.signal,
        );
      } finally {
        queueTimeout.clear();
      }
    },
    breakerState: (): BreakerState => breakerState(breaker),
    retryAfterSeconds: Math.max(1, Math.ceil(settings.breaker.resetTimeoutMs / 1000)),
    /** Starts the active health probe (GET /readyz on every instance). */
    startProbing(): void {
      void probe();
      probeTimer = setInterval(() => void probe(), settings.ejection.probeIntervalMs);
      probeTimer.unref();
    },
    dispose(): void {
      if (probeTimer) clearInterval(probeTimer);
      breaker.shutdown();
    },
  };
}
export type UpstreamClient = ReturnType<typeof createUpstreamClient>;

class DeadlineError extends Error {
  override name = 'DeadlineError';
}

function isRetryable(err: unknown): boolean {
  if (isBreakerOpenError(err) || err instanceof DeadlineError) return false;
  if (err instanceof UpstreamHttpError) return RETRYABLE_STATUS.has(err.response.status);
  return true;
}

function describe(err: unknown): string {
  if (err instanceof UpstreamHttpError) return `status ${err.response.status}`;
  return (err as { code?: string } | null)?.code ?? (err as Error | null)?.name ?? 'error';
}

/** Turns a failed call into the client's answer: a 503 with Retry-After that names the dependency. */
export function toUpstreamError(client: UpstreamClient, err: unknown): AppError {
  if (err instanceof AppError) return err;
  const details = { dependency: client.name };
  if (isBreakerOpenError(err)) {
    return new AppError('unavailable', 'GATEWAY.CIRCUIT_OPEN', `${client.name} is unavailable`, { cause: err, details, retryAfterSeconds: client.retryAfterSeconds });
  }
  const timedOut = isBreakerTimeoutError(err) || err instanceof DeadlineError || (err as Error | null)?.name === 'TimeoutError';
  if (timedOut) {
    return new AppError('unavailable', 'GATEWAY.UPSTREAM_TIMEOUT', `${client.name} did not answer in time`, { cause: err, details, retryAfterSeconds: 1 });
  }
  return new AppError('unavailable', 'GATEWAY.UPSTREAM_UNAVAILABLE', `${client.name} is unavailable`, { cause: err, details, retryAfterSeconds: 1 });
}
