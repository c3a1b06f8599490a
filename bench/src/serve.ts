/**
 * `node --require tsx/cjs bench/src/serve.ts`: a throwaway stack on free ports with a fresh data folder,
 * for running load by hand against the real system (`BASE_URL=<gatewayUrl> npm run load:ci -- smoke`, or k6). Prints the URLs as JSON; Ctrl-C stops it and
 * removes the data folder.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startStack } from '@tracemart/stack';

const root = resolve(__dirname, '..', '..');

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'tracemart-serve-'));
  const started = Date.now();
  const stack = await startStack({
    root,
    dataDir,
    freePorts: true,
    env: { LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn', ...(process.env.OTEL_SDK_DISABLED ? { OTEL_SDK_DISABLED: process.env.OTEL_SDK_DISABLED } : {}) },
    readyTimeoutMs: 90_000,
    prometheus: process.env.PROMETHEUS === 'true',
  });
  const pids = Object.fromEntries([...stack.processes.entries()].map(([name, p]) => [name, p.child.pid]));
  process.stdout.write(
    `${JSON.stringify({ readyMs: Date.now() - started, dataDir, gatewayUrl: stack.gatewayUrl, urls: stack.urls, prometheusUrl: stack.prometheusUrl, pids }, null, 2)}\n`,
  );
  let stopping = false;
  const shutdown = () => {
    if (stopping) return;
    stopping = true;
    stack.stop().then(
      () => {
        rmSync(dataDir, { recursive: true, force: true });
        process.exit(0);
      },
      () => process.exit(1),
    );
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
}

main().catch((err: unknown) => {
  process.stderr.write(`stack failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
