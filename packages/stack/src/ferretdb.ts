import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { exitReason, ownSession } from './process';
import type { ProcessGroup } from './process-group';
import { canConnect, freePort, waitUntil } from './ports';
import { toolPath } from './tools';

/** Starts FerretDB (MongoDB wire protocol) on the given PostgreSQL database and waits until it accepts connections. */
export async function startFerretDb(
  group: ProcessGroup,
  options: { root: string; dataDir: string; postgresUrl: string; port: number; onLine?: (name: string, line: string) => void },
): Promise<{ url: string }> {
  const debugPort = await freePort();
  const stateDir = join(options.dataDir, 'ferretdb');
  mkdirSync(stateDir, { recursive: true });
  group.spawn(
    {
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
    (proc) =>
      waitUntil(
        'FerretDB',
        () => canConnect(options.port),
        15_000,
        100,
        () => exitReason(proc),
      ),
    'infra',
  );
  await group.ready('ferretdb');
  return { url: `mongodb://127.0.0.1:${options.port}` };
}
