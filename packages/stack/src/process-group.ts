import { Registry, type Counter } from 'prom-client';
import { howItEnded, spawnManaged, type ManagedProcess, type SpawnOptions } from './process';
import { processRestartsCounter } from './stack-metrics';
import { CRASH_BACKOFF, CrashLoop, logToStderr, type CrashBackoffPolicy, type SupervisorEvent } from './supervisor';

/** Waits until a process answers (its port, /healthz, /readyz); rejects when it exits first or takes too long. */
export type Readiness = (proc: ManagedProcess) => Promise<void>;

/**
 * When a process stops, relative to the others: `app` first (services drain NATS and close MongoDB while both
 * are still up; Prometheus too), then `infra` (nats-server, FerretDB), then `storage` (PostgreSQL, under FerretDB).
 */
export type StopTier = 'app' | 'infra' | 'storage';
const STOP_ORDER: StopTier[] = ['app', 'infra', 'storage'];

export interface ProcessGroupOptions {
  /**
   * Restart a process that exits without being asked to (crash, `kill -9` from outside, OOM) after a backoff
   * (default true). `stop()`, `restart(name)` and `kill(name, signal, { restart: false })` are never followed by one.
   */
  supervise?: boolean;
  backoff?: Partial<CrashBackoffPolicy>;
  /** Where each crash and restart is reported (default: a JSON line on stderr). */
  log?: (event: SupervisorEvent) => void;
  /** For tests of the schedule: the clock and the jitter's random source. */
  now?: () => number;
  random?: () => number;
}

export interface KillOptions {
  /**
   * true (default): a simulated crash, which the supervisor answers like any other. false: the process stays down
   * until `restart(name)` (a test that brings it back at a moment of its choosing).
   */
  restart?: boolean;
}

interface Entry {
  name: string;
  process: ManagedProcess;
  ready: Readiness;
  tier: StopTier;
  crashes: CrashLoop;
  /** A process killed with `restart: false`: its exit is not a crash. */
  heldDown?: ManagedProcess;
  /** The supervisor's restart, waiting out its backoff. */
  pendingRestart?: NodeJS.Timeout;
}

/**
 * The processes of one stack by name, each with how to tell it is ready, so that any of them can be restarted
 * (a chaos test kills a NATS node or a service and brings it back) and all are stopped in order. Supervised (the
 * default), a process that exits unexpectedly is started again with the same command, environment and log file.
 */
export class ProcessGroup {
  /** The running process of each name; `restart` and the supervisor replace entries (Stack.processes is this map). */
  readonly processes = new Map<string, ManagedProcess>();
  /** The group's own metrics (`tracemart_process_restarts_total`): the stack serves them on its /metrics. */
  readonly registry = new Registry();
  private readonly restarts: Counter<'process'> = processRestartsCounter(this.registry);
  private readonly entries = new Map<string, Entry>();
  private readonly supervise: boolean;
  private readonly backoff: CrashBackoffPolicy;
  private readonly log: (event: SupervisorEvent) => void;
  private stopping = false;

  constructor(private readonly options: ProcessGroupOptions = {}) {
    this.supervise = options.supervise ?? true;
    this.backoff = { ...CRASH_BACKOFF, ...options.backoff };
    this.log = options.log ?? logToStderr;
  }

  /** Adds a process that is already running. */
  add(process: ManagedProcess, ready: Readiness, tier: StopTier): ManagedProcess {
    if (this.entries.has(process.name)) throw new Error(`a process named ${process.name} is already in this stack`);
    const entry: Entry = { name: process.name, process, ready, tier, crashes: new CrashLoop(this.backoff, this.options.now, this.options.random) };
    this.entries.set(process.name, entry);
    this.processes.set(process.name, process);
    this.restarts.labels(process.name).inc(0);
    this.watch(entry, process);
    return process;
  }

  /** Spawns a process and adds it; `await group.ready(name)` waits for it (start several, then wait for all). */
  spawn(options: SpawnOptions, ready: Readiness, tier: StopTier): ManagedProcess {
    return this.add(spawnManaged(options), ready, tier);
  }

  ready(name: string): Promise<void> {
    const entry = this.entry(name);
    return entry.ready(entry.process);
  }

  /**
   * Sends `signal` (default SIGKILL) to the named process and waits until it has exited. Supervised, it comes back
   * after the backoff unless `restart: false`, which holds it down until `restart(name)`.
   */
  async kill(name: string, signal: NodeJS.Signals = 'SIGKILL', options: KillOptions = {}): Promise<ManagedProcess> {
    const entry = this.entry(name);
    const proc = entry.process;
    if (options.restart === false) {
      entry.heldDown = proc;
      this.cancelPendingRestart(entry);
    }
    proc.child.kill(signal);
    await proc.exited;
    return proc;
  }

  /**
   * Starts the named process again with the same command, arguments, environment and log file, and waits until it
   * is ready. A process that still runs is stopped first (gracefully); one that was killed is just started again
   * (a supervisor restart still waiting out its backoff is called off).
   */
  async restart(name: string): Promise<ManagedProcess> {
    const entry = this.entry(name);
    this.cancelPendingRestart(entry);
    await entry.process.stop();
    this.cancelPendingRestart(entry);
    entry.heldDown = undefined;
    entry.crashes.reset();
    this.replace(entry, entry.process.spawnAgain());
    await entry.ready(entry.process);
    return entry.process;
  }

  /** Stops every process, tier by tier (see StopTier); the processes of one tier stop in parallel. Nothing is restarted from here on. */
  async stop(): Promise<void> {
    this.stopping = true;
    for (const entry of this.entries.values()) this.cancelPendingRestart(entry);
    for (const tier of STOP_ORDER) {
      await Promise.all([...this.entries.values()].filter((e) => e.tier === tier).map((e) => e.process.stop()));
    }
  }

  private replace(entry: Entry, next: ManagedProcess): void {
    entry.process = next;
    this.processes.set(entry.name, next);
    this.watch(entry, next);
  }

  private watch(entry: Entry, proc: ManagedProcess): void {
    void proc.exited.then(() => this.exited(entry, proc));
  }

  /** The supervisor: an exit nobody asked for (not stop(), restart() or a held-down kill) is answered with a restart. */
  private exited(entry: Entry, proc: ManagedProcess): void {
    if (!this.supervise || this.stopping || entry.process !== proc || proc.stopRequested || entry.heldDown === proc) return;
    const crash = entry.crashes.crashed();
    const reason = howItEnded(proc.child);
    this.log({ event: 'process.crashed', process: entry.name, reason, pid: proc.child.pid, ...crash });
    entry.pendingRestart = setTimeout(() => {
      entry.pendingRestart = undefined;
      if (this.stopping || entry.process !== proc || entry.heldDown === proc) return;
      entry.crashes.started();
      this.replace(entry, proc.spawnAgain());
      this.restarts.labels(entry.name).inc();
      const restarted = entry.process;
      this.log({ event: 'process.restarted', process: entry.name, reason, attempt: crash.attempt, delayMs: crash.delayMs, pid: restarted.child.pid });
      // Ready is only reported: a restart that exits again is the next crash of the loop.
      entry.ready(restarted).then(
        () => this.log({ event: 'process.ready', process: entry.name, attempt: crash.attempt, pid: restarted.child.pid }),
        () => undefined,
      );
    }, crash.delayMs);
    // A backoff alone does not keep the stack's Node process alive.
    entry.pendingRestart.unref();
  }

  private cancelPendingRestart(entry: Entry): void {
    if (entry.pendingRestart) clearTimeout(entry.pendingRestart);
    entry.pendingRestart = undefined;
  }

  private entry(name: string): Entry {
    const entry = this.entries.get(name);
    if (!entry) throw new Error(`no process named ${name} in this stack (there are: ${[...this.entries.keys()].join(', ')})`);
    return entry;
  }
}
