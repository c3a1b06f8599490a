import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { createInterface } from 'node:readline';

export interface ManagedProcess {
  name: string;
  child: ChildProcess;
  /** Every line the process wrote to stdout or stderr, kept for assertions (bounded). */
  lines: string[];
  exited: Promise<number | null>;
  stop: (signal?: NodeJS.Signals, timeoutMs?: number) => Promise<void>;
  /** Whether `stop()` was called: its exit was asked for (the supervisor restarts only a process that was not stopped). */
  readonly stopRequested: boolean;
  /** A new process with the same command, arguments, environment and log file (appended to), e.g. after a `kill -9`. */
  spawnAgain: () => ManagedProcess;
}

export interface SpawnOptions {
  name: string;
  command: string;
  args: string[];
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  logFile?: string;
  /** Called with each output line (e.g. to echo it to the console). */
  onLine?: (name: string, line: string) => void;
  /** What `stop()` sends first (default SIGTERM), and how long it waits before SIGKILL (default 15 s). */
  stopSignal?: NodeJS.Signals;
  stopTimeoutMs?: number;
  /** Run once the process has exited, however it ended (e.g. remove a container its client left behind). */
  afterExit?: () => void;
}

const MAX_KEPT_LINES = 50_000;

/** Spawns a child that is stopped with SIGTERM (then SIGKILL after a timeout) and whose output is captured. */
export function spawnManaged(options: SpawnOptions): ManagedProcess {
  const child = spawn(options.command, options.args, {
    cwd: options.cwd,
    env: options.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  let file: ReturnType<typeof createWriteStream> | undefined;
  if (options.logFile) {
    mkdirSync(dirname(options.logFile), { recursive: true });
    file = createWriteStream(options.logFile, { flags: 'a' });
  }
  for (const stream of [child.stdout, child.stderr]) {
    if (!stream) continue;
    createInterface({ input: stream }).on('line', (line) => {
      if (lines.length < MAX_KEPT_LINES) lines.push(line);
      if (file && !file.writableEnded) file.write(`${line}\n`);
      options.onLine?.(options.name, line);
    });
  }
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => resolve(code));
    // Output can still arrive between 'exit' and 'close' (the pipes drain): the log file ends only once they are closed.
    child.once('close', () => file?.end());
    child.once('error', () => resolve(-1));
  });
  if (options.afterExit) void exited.then(options.afterExit);
  let stopRequested = false;
  return {
    name: options.name,
    child,
    lines,
    exited,
    get stopRequested() {
      return stopRequested;
    },
    async stop(signal = options.stopSignal ?? 'SIGTERM', timeoutMs = options.stopTimeoutMs ?? 15_000) {
      stopRequested = true;
      if (hasExited(child)) return;
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      await exited;
      clearTimeout(timer);
    },
    spawnAgain: () => spawnManaged(options),
  };
}

function hasExited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

/** How a process that is gone ended: `signal SIGKILL`, `exit code 1`, `could not be started`. */
export function howItEnded(child: ChildProcess): string {
  if (child.pid === undefined) return `could not be started (${child.spawnfile})`;
  if (child.signalCode !== null) return `signal ${child.signalCode}`;
  return `exit code ${child.exitCode}`;
}

/** Why the process is gone, with its last lines, or undefined while it runs (a `failWhen` for `waitUntil`). */
export function exitReason(proc: ManagedProcess): string | undefined {
  // No pid: the program could not be started at all (not found, not executable).
  if (proc.child.pid === undefined) return `could not be started (${proc.child.spawnfile})`;
  if (!hasExited(proc.child)) return undefined;
  return `exited with ${proc.child.exitCode ?? proc.child.signalCode}: ${proc.lines.slice(-5).join('\n')}`;
}

/**
 * The command line that runs `command` so that it gets `signal` should the stack's process die without stopping it
 * (killed, crashed): no service or server outlives the stack. setpriv execs `command`, so the child's pid is its own.
 */
export function withParentDeathSignal(command: string, args: string[], signal: 'TERM' | 'INT' = 'TERM'): { command: string; args: string[] } {
  return { command: 'setpriv', args: ['--pdeathsig', signal, '--', command, ...args] };
}

/**
 * withParentDeathSignal, in a session of its own (setsid execs too): a Ctrl-C in the terminal then reaches the
 * services only, and the stack stops the infrastructure after them, as `stop()` does: services drain NATS and close
 * MongoDB while both still run.
 */
export function ownSession(command: string, args: string[], signal: 'TERM' | 'INT' = 'TERM'): { command: string; args: string[] } {
  const inner = withParentDeathSignal(command, args, signal);
  return { command: 'setsid', args: [inner.command, ...inner.args] };
}
