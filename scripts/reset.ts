/**
 * `npm run reset`: wipes the local stack's data (.data/: NATS streams, FerretDB's PostgreSQL cluster, logs).
 * Refuses while `npm start` still runs on it: removing a running PostgreSQL's files would corrupt it mid-write.
 */
import { rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { clusterLocation, runningPostmaster } from '@tracemart/stack';

const dataDir = join(resolve(__dirname, '..'), '.data');
const cluster = clusterLocation(dataDir);
const pid = runningPostmaster(join(cluster, 'data'));
if (pid !== undefined) {
  process.stderr.write(`tracemart's PostgreSQL (pid ${pid}) still runs on ${cluster}: stop \`npm start\` first (Ctrl-C), or \`kill -INT ${pid}\` if nothing else is left\n`);
  process.exit(1);
}
// The cluster may live outside .data (see clusterLocation): remove it first, while .data still says where.
rmSync(cluster, { recursive: true, force: true });
rmSync(dataDir, { recursive: true, force: true });
process.stdout.write(`removed ${dataDir}${cluster.startsWith(dataDir) ? '' : ` and ${cluster}`}\n`);
