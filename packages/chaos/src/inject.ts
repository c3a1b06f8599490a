import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from 'pg';
import type { ManagedProcess, Stack } from '@tracemart/stack';
import type { Fault } from './faults';

/** A fault that has taken effect. */
export interface Injection {
  /** When it took effect (ms since the epoch): the signal sent, the last connection slot taken. */
  at: number;
  /** The pid of each target when it was hit. */
  pids: Record<string, number>;
  /** What was done, for the log, the event and the report. */
  detail: Record<string, unknown>;
  /** Resolves once the fault itself is over: the killed processes gone, the paused one continued, the slots released. */
  over: Promise<void>;
}

export interface InjectOptions {
  pauseMs: number;
  exhaustMs: number;
  /** Ends a pause or an exhaustion early (the run is interrupted): the process is continued, the slots released. */
  signal?: AbortSignal;
}

/** The running process of `name` (after a restart, the new one) with its pid; throws when there is none. */
export function running(stack: Pick<Stack, 'processes'>, name: string): { proc: ManagedProcess; pid: number } {
  const proc = stack.processes.get(name);
  const pid = proc?.child.pid;
  if (!proc || pid === undefined || proc.child.exitCode !== null || proc.child.signalCode !== null) throw new Error(`${name} is not running`);
  return { proc, pid };
}

/** What the injectors need of the stack (an `Infra` of packages/stack is enough for exhaust). */
export type InjectTarget = Pick<Stack, 'processes' | 'postgresUrl'>;

export async function inject(stack: InjectTarget, fault: Fault, options: InjectOptions): Promise<Injection> {
  switch (fault.kind) {
    case 'kill':
      return kill(stack, fault.targets);
    case 'pause':
      return pause(stack, fault.targets[0] as string, options);
    case 'exhaust':
      return exhaustConnections(stack, options);
  }
}

/**
 * kill -9 of every target's pid at the same moment, from outside the stack's API (not `stack.kill`): the supervisor
 * sees an unexpected exit, as after a crash or the OOM killer.
 */
function kill(stack: InjectTarget, targets: readonly string[]): Injection {
  const victims = targets.map((name) => ({ name, ...running(stack, name) }));
  const at = Date.now();
  for (const { pid } of victims) process.kill(pid, 'SIGKILL');
  return {
    at,
    pids: Object.fromEntries(victims.map((v) => [v.name, v.pid])),
    detail: { signal: 'SIGKILL', pids: victims.map((v) => `${v.name}:${v.pid}`).join(' ') },
    over: Promise.all(victims.map((v) => v.proc.exited)).then(() => undefined),
  };
}

/** SIGSTOP, then SIGCONT after the pause (also when the run is interrupted). */
function pause(stack: InjectTarget, target: string, options: InjectOptions): Injection {
  const { pid } = running(stack, target);
  const at = Date.now();
  process.kill(pid, 'SIGSTOP');
  const over = (async () => {
    try {
      await sleep(options.pauseMs, undefined, options.signal ? { signal: options.signal } : {}).catch(() => undefined);
    } finally {
      // ESRCH: it was killed meanwhile (the stack stopped by an interrupted run), nothing to continue.
      try {
        process.kill(pid, 'SIGCONT');
      } catch {
        // gone
      }
    }
  })();
  return { at, pids: { [target]: pid }, detail: { signal: 'SIGSTOP', pid, pauseMs: options.pauseMs }, over };
}

/** At most this many connections are opened, whatever max_connections says. */
const MAX_HELD = 1_000;
/** Connections opened at once: at least this many, at most MAX_BATCH. */
const MIN_BATCH = 5;
const MAX_BATCH = 100;
/** Rounds of dropping FerretDB's connections and taking the slots they free (FerretDB reconnects in between). */
const MAX_ROUNDS = 5;
/** PostgreSQL's "too many clients already" (and "remaining slots are reserved"): the slots are full. */
const SLOTS_FULL = new Set(['53300']);
const APPLICATION = 'tracemart-chaos';
/** Every client connection that is not the runner's: FerretDB's (the cluster is private to the stack). */
const OTHERS = `FROM pg_stat_activity WHERE backend_type = 'client backend' AND application_name <> '${APPLICATION}'`;

/**
 * FerretDB without a database connection, and none to be had: every free connection slot of the PostgreSQL under
 * FerretDB taken (as its superuser, so the reserved slots too) and FerretDB's own connections dropped, held for the
 * exhaust time, then released. Filling the slots alone changes nothing while FerretDB's pool (up to 50 connections,
 * kept open) has enough: a try without the drop saw no error at all. FerretDB reconnects at once when a slot frees,
 * so dropping and taking alternate until it holds none (bounded rounds).
 */
async function exhaustConnections(stack: InjectTarget, options: InjectOptions): Promise<Injection> {
  const url = stack.postgresUrl;
  if (!url) throw new Error('exhaust: this stack has no PostgreSQL of its own (an external MONGODB_URL)');
  const pid = running(stack, 'postgres').pid;
  const held: Client[] = [];
  const open = async (): Promise<Client | undefined> => {
    const client = new Client({ connectionString: url, connectionTimeoutMillis: 5_000, application_name: APPLICATION });
    // A held connection that the server ends (PostgreSQL killed later) must not be an unhandled 'error'.
    client.on('error', () => undefined);
    try {
      await client.connect();
      return client;
    } catch (err) {
      await client.end().catch(() => undefined);
      if (SLOTS_FULL.has((err as { code?: string }).code ?? '')) return undefined;
      throw err;
    }
  };
  /** Opens connections until PostgreSQL refuses one (or the bounds): as many at once as slots seem free, to beat FerretDB to them. */
  const fill = async (max: number) => {
    for (let full = false; !full && held.length < Math.min(MAX_HELD, max);) {
      const batch = await Promise.all(Array.from({ length: Math.min(MAX_BATCH, Math.max(MIN_BATCH, max - held.length)) }, open));
      for (const client of batch) if (client) held.push(client);
      full = batch.some((c) => c === undefined);
    }
  };
  const release = () => Promise.all(held.splice(0).map((c) => c.end().catch(() => undefined)));
  try {
    const first = await open();
    if (!first) throw new Error('exhaust: PostgreSQL is already full');
    held.push(first);
    const settings = await first.query<{ max: string; others: string }>(`SELECT current_setting('max_connections') AS max, (SELECT count(*) ${OTHERS}) AS others`);
    const max = Number(settings.rows[0]?.max);
    const ferretdbBefore = Number(settings.rows[0]?.others);
    await fill(max);
    let dropped = 0;
    let left = ferretdbBefore;
    let rounds = 0;
    for (; left > 0 && rounds < MAX_ROUNDS; rounds++) {
      const drop = await first.query<{ dropped: string }>(`SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) AS dropped ${OTHERS}`);
      dropped += Number(drop.rows[0]?.dropped);
      await fill(max);
      left = Number((await first.query<{ n: string }>(`SELECT count(*) AS n ${OTHERS}`)).rows[0]?.n);
    }
    const at = Date.now();
    const detail = {
      maxConnections: max,
      held: held.length,
      ferretdbConnectionsBefore: ferretdbBefore,
      ferretdbConnectionsDropped: dropped,
      ferretdbConnectionsLeft: left,
      rounds,
      holdMs: options.exhaustMs,
    };
    const over = (async () => {
      try {
        await sleep(options.exhaustMs, undefined, options.signal ? { signal: options.signal } : {}).catch(() => undefined);
      } finally {
        await release();
      }
    })();
    return { at, pids: { postgres: pid }, detail, over };
  } catch (err) {
    await release();
    throw err;
  }
}
