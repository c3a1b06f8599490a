import { setTimeout as sleep } from 'node:timers/promises';
import type { MongoClient } from 'mongodb';
import { httpOk, type Stack } from '@tracemart/stack';
import { targetClass, type Fault } from './faults';
import type { Injection } from './inject';
import type { CheckoutProbe, ProbeResult } from './probe';

/** Whether the process of this name answers as ready (its own probe: /readyz, JetStream /healthz, a query). */
export type ReadyCheck = (name: string) => Promise<boolean>;

const within = <T>(ms: number, work: Promise<T>): Promise<T> =>
  Promise.race([work, sleep(ms, undefined, { ref: false }).then(() => Promise.reject(new Error(`no answer within ${ms} ms`)))]);

/**
 * Each kind of process's readiness, as the stack itself waits for it: a service or the gateway answers /readyz, a NATS
 * node /healthz (JetStream current), FerretDB and PostgreSQL answer a query on the order service's database through
 * the MongoDB wire protocol (FerretDB can only answer it from PostgreSQL).
 */
export function readinessOf(stack: Stack, mongo: MongoClient): ReadyCheck {
  const urls = new Map(Object.values(stack.instances).flatMap((instances) => instances.map((i) => [i.name, i.url] as const)));
  const monitors = new Map(stack.natsNodes.map((n) => [n.name, n.monitorUrl] as const));
  return async (name) => {
    try {
      switch (targetClass(name)) {
        case 'service':
        case 'gateway':
          return await httpOk(`${urls.get(name) ?? ''}/readyz`);
        case 'nats':
          return await httpOk(`${monitors.get(name) ?? ''}/healthz`);
        case 'ferretdb':
        case 'postgres':
          await within(
            3_000,
            mongo
              .db('tracemart_order')
              .collection('order_events')
              .findOne({}, { projection: { _id: 1 }, maxTimeMS: 2_000 }),
          );
          return true;
      }
    } catch {
      return false;
    }
  };
}

export interface Recovery {
  recovered: boolean;
  /** From the fault to every target running again (a new process after a kill) and answering as ready. */
  readyMs?: number;
  /** From the fault to the end of the first probe checkout that started once every target was ready and was confirmed. */
  recoveryMs?: number;
  /** Probe checkouts tried after the targets were ready (the last one succeeded when recovered). */
  probeTries: number;
  lastProbe?: string;
  /** How the probe checkouts that failed ended (`HTTP 503 SERVICE.UNAVAILABLE`, `PENDING after 15000 ms`), each once. */
  probeFailures: string[];
  /** The pid of each target after the fault (a killed one's replacement). */
  pids: Record<string, number>;
  /** Why it did not recover in time. */
  error?: string;
}

export interface RecoveryOptions {
  ready: ReadyCheck;
  probe: CheckoutProbe;
  timeoutMs: number;
  signal?: AbortSignal;
  /** Every probe checkout's result (the accepted ones are orders the invariants check). */
  onProbe?: (result: ProbeResult) => void;
  pollMs?: number;
}

/** Distinct probe failures kept per fault. */
const MAX_FAILURES_KEPT = 5;

/** The process of `name` now, if it is a live one other than `oldPid`. */
function replacement(stack: Stack, name: string, oldPid: number | undefined): number | undefined {
  const proc = stack.processes.get(name);
  const pid = proc?.child.pid;
  if (!proc || pid === undefined || pid === oldPid || proc.child.exitCode !== null || proc.child.signalCode !== null) return undefined;
  return pid;
}

/**
 * Waits until the system has recovered from `fault`: every target running (after a kill: restarted by the stack's
 * supervisor, so a new pid) and ready, then a new checkout through the gateway confirmed end to end. Bounded by
 * `timeoutMs` from the fault.
 */
export async function awaitRecovery(stack: Stack, fault: Fault, injection: Injection, options: RecoveryOptions): Promise<Recovery> {
  const deadline = injection.at + options.timeoutMs;
  const pollMs = options.pollMs ?? 200;
  const pids: Record<string, number> = {};
  const failures = new Set<string>();
  const stop = (error: string, probeTries = 0, lastProbe?: string): Recovery => ({
    recovered: false,
    probeTries,
    probeFailures: [...failures],
    pids,
    error,
    ...(lastProbe ? { lastProbe } : {}),
  });
  if (fault.kind !== 'kill') {
    const over = await Promise.race([injection.over.then(() => true), sleep(Math.max(0, deadline - Date.now()), false, { ref: false })]);
    if (!over) return stop(`${fault.kind} not over within ${options.timeoutMs} ms`);
  }
  for (const name of fault.targets) {
    const oldPid = fault.kind === 'kill' ? injection.pids[name] : undefined;
    for (;;) {
      if (options.signal?.aborted) return stop('interrupted');
      const pid = replacement(stack, name, oldPid);
      if (pid !== undefined && (await options.ready(name))) {
        pids[name] = pid;
        break;
      }
      if (Date.now() > deadline) return stop(pid === undefined ? `${name} not running again within ${options.timeoutMs} ms` : `${name} not ready within ${options.timeoutMs} ms`);
      await sleep(pollMs);
    }
  }
  const readyMs = Date.now() - injection.at;
  let tries = 0;
  let last: ProbeResult | undefined;
  while (Date.now() <= deadline && !options.signal?.aborted) {
    tries += 1;
    last = await options.probe.once(options.signal).catch((err: unknown) => ({ ok: false, startedAt: Date.now(), endedAt: Date.now(), detail: String(err) }));
    options.onProbe?.(last);
    if (last.ok) return { recovered: true, readyMs, recoveryMs: last.endedAt - injection.at, probeTries: tries, lastProbe: last.detail, probeFailures: [...failures], pids };
    if (failures.size < MAX_FAILURES_KEPT) failures.add(last.detail);
    await sleep(500);
  }
  return { ...stop(`no checkout confirmed within ${options.timeoutMs} ms of the fault`, tries, last?.detail), readyMs };
}
