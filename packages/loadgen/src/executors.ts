import { setMaxListeners } from 'node:events';
import { setTimeout as delay } from 'node:timers/promises';

/**
 * Executors for journeys (several requests per iteration, such as a checkout that polls its order):
 *   constantArrivalRate: the open model, as k6's `constant-arrival-rate`. Iterations start on a fixed
 *     schedule whether or not earlier ones finished; each needs a free VU (at most `maxVUs` run at
 *     once), and an arrival that finds none is dropped and counted, never queued, so a slow system
 *     shows up as dropped iterations instead of silently lowering the offered load.
 *   closedLoop: the closed model, as k6's `constant-vus`: each VU starts its next iteration when the
 *     last one ended.
 * Both are bounded in time (duration + graceful stop, then iterations are aborted) and in count.
 */

export interface IterationContext {
  /** 1-based, reused once free, like k6's `exec.vu.idInTest` within one executor. */
  vu: number;
  iteration: number;
  /** Aborted when the graceful stop ends, or when the caller's signal is. */
  signal: AbortSignal;
}

export interface ExecutorResult {
  /** Iterations scheduled (open model) or started (closed model). */
  scheduled: number;
  started: number;
  dropped: number;
  completed: number;
  /** Iterations that threw (not counting the ones aborted at the end). */
  failed: number;
  /** Iterations still running when the graceful stop ended, aborted. */
  interrupted: number;
  /** The first few errors thrown, for the report. */
  errors: string[];
  elapsedS: number;
}

/** Sleeps `ms`; rejects with the signal's reason when it is aborted. */
export async function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  await delay(Math.max(0, ms), undefined, signal ? { signal } : {});
}

const isAbort = (err: unknown) => err instanceof Error && (err.name === 'AbortError' || err.name === 'TimeoutError');

class IterationPool {
  private readonly free: number[] = [];
  private nextVu = 1;
  private readonly running = new Set<Promise<void>>();
  readonly controller = new AbortController();
  readonly result: ExecutorResult = { scheduled: 0, started: 0, dropped: 0, completed: 0, failed: 0, interrupted: 0, errors: [], elapsedS: 0 };

  constructor(
    private readonly maxVUs: number,
    private readonly iteration: (ctx: IterationContext) => Promise<void>,
    outer?: AbortSignal,
  ) {
    // Each running iteration's sleeps and requests listen to it.
    setMaxListeners(maxVUs * 4 + 10, this.controller.signal);
    if (outer) {
      if (outer.aborted) this.controller.abort(outer.reason);
      else outer.addEventListener('abort', () => this.controller.abort(outer.reason), { once: true });
    }
  }

  get active(): number {
    return this.running.size;
  }

  /** Starts an iteration on a free VU; false when every VU is busy. */
  tryStart(): boolean {
    const vu = this.free.pop() ?? (this.nextVu <= this.maxVUs ? this.nextVu++ : undefined);
    if (vu === undefined) return false;
    const iteration = this.result.started++;
    const run = (async () => {
      try {
        await this.iteration({ vu, iteration, signal: this.controller.signal });
        this.result.completed += 1;
      } catch (err) {
        if (this.controller.signal.aborted && isAbort(err)) {
          this.result.interrupted += 1;
        } else {
          this.result.failed += 1;
          if (this.result.errors.length < 5) this.result.errors.push(err instanceof Error ? err.message : String(err));
        }
      } finally {
        this.free.push(vu);
      }
    })();
    this.running.add(run);
    void run.finally(() => this.running.delete(run));
    return true;
  }

  /** Waits for running iterations up to `graceMs`, then aborts the rest and waits for them to unwind. */
  async drain(graceMs: number): Promise<void> {
    const all = () => Promise.all([...this.running]);
    const graceful = await Promise.race([all().then(() => true), delay(graceMs, false, { ref: false })]);
    if (!graceful) {
      this.controller.abort(new Error('graceful stop ended'));
      // Aborted sleeps reject at once, requests end at their own timeout; bound the wait anyway. The bounding
      // timers are unref'd, so they never keep the process alive once the work is done.
      await Promise.race([all(), delay(10_000, undefined, { ref: false })]);
    }
  }
}

export interface ArrivalRateOptions {
  ratePerS: number;
  durationS: number;
  maxVUs: number;
  /** After the last arrival, how long running iterations may finish before they are aborted. */
  gracefulStopS: number;
  signal?: AbortSignal;
  iteration: (ctx: IterationContext) => Promise<void>;
}

/** k6's constant-arrival-rate: ceil(rate × duration) arrivals, 1/rate apart, from now. */
export async function constantArrivalRate(options: ArrivalRateOptions): Promise<ExecutorResult> {
  if (!(options.ratePerS > 0) || !(options.durationS > 0) || !(options.maxVUs >= 1)) {
    throw new Error(`constantArrivalRate: rate, duration and maxVUs must be positive (got ${options.ratePerS}/s, ${options.durationS}s, ${options.maxVUs})`);
  }
  const pool = new IterationPool(options.maxVUs, options.iteration, options.signal);
  const began = performance.now();
  const intervalMs = 1000 / options.ratePerS;
  const arrivals = Math.ceil(options.durationS * options.ratePerS - 1e-9);
  for (let i = 0; i < arrivals && !pool.controller.signal.aborted; i++) {
    const due = began + i * intervalMs;
    const wait = due - performance.now();
    if (wait > 0) await delay(wait);
    pool.result.scheduled += 1;
    if (!pool.tryStart()) pool.result.dropped += 1;
  }
  const endOfSchedule = began + options.durationS * 1000;
  if (performance.now() < endOfSchedule && !pool.controller.signal.aborted) await delay(endOfSchedule - performance.now());
  await pool.drain(options.gracefulStopS * 1000);
  pool.result.elapsedS = (performance.now() - began) / 1000;
  return pool.result;
}

export interface ClosedLoopOptions {
  vus: number;
  durationS: number;
  gracefulStopS: number;
  signal?: AbortSignal;
  iteration: (ctx: IterationContext) => Promise<void>;
  /** Safety bound on iterations per VU. */
  maxIterationsPerVu?: number;
}

/** k6's constant-vus: `vus` loops, each starting its next iteration when the last one ended. */
export async function closedLoop(options: ClosedLoopOptions): Promise<ExecutorResult> {
  const began = performance.now();
  const end = began + options.durationS * 1000;
  const maxPerVu = options.maxIterationsPerVu ?? 1_000_000;
  const controller = new AbortController();
  setMaxListeners(options.vus * 4 + 10, controller.signal);
  const outer = options.signal;
  if (outer) {
    if (outer.aborted) controller.abort(outer.reason);
    else outer.addEventListener('abort', () => controller.abort(outer.reason), { once: true });
  }
  const result: ExecutorResult = { scheduled: 0, started: 0, dropped: 0, completed: 0, failed: 0, interrupted: 0, errors: [], elapsedS: 0 };
  let iteration = 0;
  const loop = async (vu: number) => {
    for (let n = 0; n < maxPerVu && performance.now() < end && !controller.signal.aborted; n++) {
      result.started += 1;
      try {
        await options.iteration({ vu, iteration: iteration++, signal: controller.signal });
        result.completed += 1;
      } catch (err) {
        if (controller.signal.aborted && isAbort(err)) {
          result.interrupted += 1;
        } else {
          result.failed += 1;
          if (result.errors.length < 5) result.errors.push(err instanceof Error ? err.message : String(err));
        }
      }
    }
  };
  const loops = Promise.all(Array.from({ length: options.vus }, (_, i) => loop(i + 1)));
  const graceMs = Math.max(0, end - performance.now()) + options.gracefulStopS * 1000;
  const graceful = await Promise.race([loops.then(() => true), delay(graceMs, false, { ref: false })]);
  if (!graceful) {
    controller.abort(new Error('graceful stop ended'));
    await Promise.race([loops, delay(10_000, undefined, { ref: false })]);
  }
  result.scheduled = result.started;
  result.elapsedS = (performance.now() - began) / 1000;
  return result;
}
