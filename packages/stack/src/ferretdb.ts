import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { exitReason, ownSession, type SpawnOptions } from './process';
import type { ProcessGroup, Readiness } from './process-group';
import { canConnect, freePort, waitUntil } from './ports';
import { toolPath } from './tools';

export interface FerretDbOptions {
  root: string;
  dataDir: string;
  postgresUrl: string;
  port: number;
  onLine?: (name: string, line: string) => void;
}

/** FerretDB's client URL on `port` (what MONGODB_URL takes). */
export const ferretDbUrl = (port: number): string => `mongodb://127.0.0.1:${port}`;

/**
 * How FerretDB is started (MongoDB wire protocol on the given PostgreSQL database) and when it is ready: what
 * `startFerretDb` spawns, and what the per-process entry (`npm run stack:process -- ferretdb`) runs on its own.
 */
export async function ferretDbProcess(options: FerretDbOptions): Promise<{ spawn: SpawnOptions; ready: Readiness }> {
  const debugPort = await freePort();
  const stateDir = join(options.dataDir, 'ferretdb');
  mkdirSync(stateDir, { recursive: true });
  return {
    spawn: {
      name: 'ferretdb',
      ...ownSession(toolPath(options.root, 'ferretdb'), [
        '--handler=postgresql',
        `--state-dir=${stateDir}`,
        `--listen-addr=127.0.0.1:${options.port}`,
        `--debug-addr=127.0.0.1:${debugPort}`,
        '--telemetry=disable',
        '--log-level=error',
        '--log-format=json',
      ]),
      // The URL holds PostgreSQL's password: in the environment (readable only by its owner), not in `ps`.
      env: { ...process.env, FERRETDB_POSTGRESQL_URL: options.postgresUrl },
      logFile: join(options.dataDir, 'logs', 'ferretdb.log'),
      ...(options.onLine ? { onLine: options.onLine } : {}),
    },
    ready: (proc) =>
      waitUntil(
        'FerretDB',
        () => canConnect(options.port),
        15_000,
        100,
        () => exitReason(proc),
      ),
  };
}

/** Starts FerretDB into `group` and waits until it accepts connections. */
export async function startFerretDb(group: ProcessGroup, options: FerretDbOptions): Promise<{ url: string }> {
  const ferretdb = await ferretDbProcess(options);
  group.spawn(ferretdb.spawn, ferretdb.ready, 'infra');
  await group.ready('ferretdb');
  return { url: ferretDbUrl(options.port) };
}
