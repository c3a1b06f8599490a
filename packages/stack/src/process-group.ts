import { spawnManaged, type ManagedProcess, type SpawnOptions } from './process';

/** Waits until a process answers (its port, /healthz, /readyz); rejects when it exits first or takes too long. */
export type Readiness = (proc: ManagedProcess) => Promise<void>;

/**
 * When a process stops, relative to the others: `app` first (services drain NATS and close MongoDB while both
 * are still up; Prometheus too), then `infra` (nats-server, FerretDB), then `storage` (PostgreSQL, under FerretDB).
 */
export type StopTier = 'app' | 'infra' | 'storage';
const STOP_ORDER: StopTier[] = ['app', 'infra', 'storage'];

interface Entry {
  process: ManagedProcess;
  ready: Readiness;
  tier: StopTier;
}

/**
 * The processes of one stack by name, each with how to tell it is ready, so that any of them can be restarted
 * (a chaos test kills a NATS node or a service and brings it back) and all are stopped in order.
 */
export class ProcessGroup {
  /** The running process of each name; `restart` replaces an entry (Stack.processes is this map). */
  readonly processes = new Map<string, ManagedProcess>();
  private readonly entries = new Map<string, Entry>();

  /** Adds a process that is already running. */
  add(process: ManagedProcess, ready: Readiness, tier: StopTier): ManagedProcess {
    if (this.entries.has(process.name)) throw new Error(`a process named ${process.name} is already in this stack`);
    this.entries.set(process.name, { process, ready, tier });
    this.processes.set(process.name, process);
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
   * Starts the named process again with the same command, arguments, environment and log file, and waits until it
   * is ready. A process that still runs is stopped first (gracefully); one that was killed is just started again.
   */
  async restart(name: string): Promise<ManagedProcess> {
    const entry = this.entry(name);
    await entry.process.stop();
    entry.process = entry.process.spawnAgain();
    this.processes.set(name, entry.process);
    await entry.ready(entry.process);
    return entry.process;
  }

  /** Stops every process, tier by tier (see StopTier); the processes of one tier stop in parallel. */
  async stop(): Promise<void> {
    for (const tier of STOP_ORDER) {
      await Promise.all([...this.entries.values()].filter((e) => e.tier === tier).map((e) => e.process.stop()));
    }
  }

  private entry(name: string): Entry {
    const entry = this.entries.get(name);
    if (!entry) throw new Error(`no process named ${name} in this stack (there are: ${[...this.entries.keys()].join(', ')})`);
    return entry;
  }
}
