/**
 * `npm run reset`: wipes the local stack's data (.data/: NATS streams, FerretDB's PostgreSQL cluster, logs).
 * Refuses while `npm start` still runs on it: removing a running PostgreSQL's files would corrupt it mid-write.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';

const dataDir = join(resolve(__dirname, '..'), '.data');

function runningPostgres(): number | undefined {
  const cluster = join(dataDir, 'postgres', 'data');
  const pidFile = join(cluster, 'postmaster.pid');
  if (!existsSync(pidFile)) return undefined;
  const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
  try {
    // A stale pid file's pid may belong to another process by now: only a postmaster started on this cluster counts.
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(cluster) ? pid : undefined;
  } catch {
    return undefined;
  }
}

const pid = runningPostgres();
if (pid !== undefined) {
  process.stderr.write(
    `tracemart's PostgreSQL (pid ${pid}) still runs on ${join(dataDir, 'postgres')}: stop \`npm start\` first (Ctrl-C), or \`kill -INT ${pid}\` if nothing else is left\n`,
  );
  process.exit(1);
}
rmSync(dataDir, { recursive: true, force: true });
process.stdout.write(`removed ${dataDir}\n`);
