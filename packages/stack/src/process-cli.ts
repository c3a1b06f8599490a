/**
 * `npm run stack:process -- <name> [--telemetry]`: one process of the local stack in the foreground, as `npm start`
 * would run it (see process-entry.ts): what each resource of the Tiltfile's local mode runs. Its output goes to stdout
 * (Tilt shows it per resource) and to .data/logs/<name>.log; SIGTERM or SIGINT stops it as the stack would, and it
 * exits with the process's exit code. `--list` prints the processes, their start order and readiness as JSON.
 *
 * STACK_DATA_DIR: the data folder (default .data); STACK_LAYOUT: a layout file (default `npm start`'s fixed ports).
 * LOG_LEVEL, OTEL_* and the secrets' variables are passed on as `npm start` does.
 */
import { join, resolve } from 'node:path';
import { entryLayout, startStackProcess } from './process-entry';
import { stackProcesses } from './layout';
import { passThroughEnv } from './env';
import { secretsFromEnv } from './secrets';

const root = resolve(__dirname, '..', '..', '..');

async function main(argv: string[]): Promise<number> {
  const dataDir = process.env.STACK_DATA_DIR ? resolve(process.env.STACK_DATA_DIR) : join(root, '.data');
  const layout = await entryLayout(dataDir);
  const telemetry = argv.includes('--telemetry');
  if (argv.includes('--list')) {
    process.stdout.write(`${JSON.stringify(stackProcesses(layout, { prometheus: true, telemetry }), null, 2)}\n`);
    return 0;
  }
  const name = argv.find((a) => !a.startsWith('--'));
  if (!name) {
    process.stderr.write('usage: npm run stack:process -- <name> [--telemetry] | --list\n');
    return 2;
  }
  const started = Date.now();
  const entry = await startStackProcess(name, {
    root,
    layout,
    env: passThroughEnv(process.env),
    secrets: secretsFromEnv(process.env),
    telemetry,
    onLine: (_, line) => process.stdout.write(`${line}\n`),
  });
  let stopping = false;
  let failed = false;
  const stop = (signal: NodeJS.Signals | 'not ready') => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`[stack:process] ${signal}: stopping ${name}\n`);
    void entry.process.stop();
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => stop(signal));
  entry.ready.then(
    () => process.stdout.write(`[stack:process] ${name} is ready (${((Date.now() - started) / 1000).toFixed(1)} s)\n`),
    (err: unknown) => {
      process.stderr.write(`[stack:process] ${name} did not become ready: ${err instanceof Error ? err.message : String(err)}\n`);
      failed = true;
      stop('not ready');
    },
  );
  const code = await entry.process.exited;
  if (failed) return 1;
  return stopping ? 0 : (code ?? 1);
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`[stack:process] ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
