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
      file?.write(`${line}\n`);
      options.onLine?.(options.name, line);
    });
  }
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => {
      file?.end();
      resolve(code);
    });
    child.once('error', () => resolve(-1));
  });
  return {
    name: options.name,
    child,
    lines,
    exited,
    async stop(signal = 'SIGTERM', timeoutMs = 15_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      await exited;
      clearTimeout(timer);
    },
  };
}
