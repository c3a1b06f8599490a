/**
 * `npm start`: runs the whole system locally on embedded defaults, no Docker.
 * Starts a 3-node NATS JetStream cluster and FerretDB on a private PostgreSQL cluster with data in .data/, then
 * every service and the gateway; prints the URLs; Ctrl-C stops everything gracefully (PostgreSQL last).
 * MONGODB_URL / NATS_URL use existing servers instead (no FerretDB, no PostgreSQL with MONGODB_URL).
 * NATS_NODES=1 runs a single nats-server (a small machine); INSTANCES=2 runs every service twice, INSTANCES_ORDER=3
 * the order service three times (the gateway balances over them). NATS_REPLICAS overrides the streams' replicas.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { clusterLocation, startStack, writeStackFile } from '@tracemart/stack';

/** A database URL fit to print: its password masked. */
function withoutPassword(url: string): string {
  const parsed = new URL(url);
  if (parsed.password) parsed.password = '***';
  return parsed.toString();
}

const root = resolve(__dirname, '..');
const dataDir = join(root, '.data');
const quiet = process.env.STACK_QUIET === 'true';

function echo(name: string, line: string): void {
  if (quiet) return;
  process.stdout.write(`${name.padEnd(12)} | ${line}\n`);
}

async function main(): Promise<void> {
  const env: Record<string, string> = {};
  for (const key of ['LOG_LEVEL', 'OTEL_EXPORTER_OTLP_ENDPOINT', 'OTEL_SDK_DISABLED', 'JWT_SECRET', 'ADMIN_TOKEN', 'NATS_REPLICAS']) {
    const value = process.env[key];
    if (value) env[key] = value;
  }
  const started = Date.now();
  const stack = await startStack({
    root,
    dataDir,
    natsUrl: process.env.NATS_URL,
    mongoUrl: process.env.MONGODB_URL,
    env,
    onLine: echo,
    prometheus: process.env.PROMETHEUS !== 'false',
  });
  writeStackFile(dataDir, stack);
  const lines = [
    '',
    `tracemart is up in ${((Date.now() - started) / 1000).toFixed(1)} s`,
    `  API gateway     ${stack.gatewayUrl}/api/products`,
    ...(stack.natsNodes.length > 0
      ? [
          `  NATS            ${stack.natsNodes.length === 1 ? 'one server (NATS_NODES=1)' : `${stack.natsNodes.length}-node JetStream cluster`}, streams and KV buckets with ${stack.natsReplicas === 1 ? '1 replica' : `${stack.natsReplicas} replicas`}`,
          // /jsz: each stream's and consumer's leader and replicas (current, lag) as that node sees them.
          ...stack.natsNodes.map((node) => `    ${node.name.padEnd(13)} ${node.url}  ${node.monitorUrl}/jsz?streams=true&consumers=true`),
          // /raftz: the node's Raft groups, their leader, term and peers (the meta layer; ?acc=$G: streams and consumers).
          ...(stack.natsNodes.length > 1 ? [`    Raft groups   ${stack.natsNodes[0]?.monitorUrl}/raftz  ${stack.natsNodes[0]?.monitorUrl}/raftz?acc=$G`] : []),
        ]
      : [`  NATS            ${stack.natsUrl}`]),
    ...(existsSync(join(dataDir, 'nats')) && stack.natsNodes.length > 1
      ? [`  note: ${join(dataDir, 'nats')} holds the streams of a single nats-server (NATS_NODES=1); the cluster keeps its own in nats-1..${stack.natsNodes.length}`]
      : []),
    `  MongoDB (wire)  ${stack.mongoUrl}`,
    ...(stack.postgresUrl
      ? [`  PostgreSQL      ${withoutPassword(stack.postgresUrl)} (FerretDB's storage, in ${clusterLocation(dataDir)}; password in its data/tracemart.password)`]
      : []),
    // FerretDB used its SQLite backend before it moved to PostgreSQL; it does not read those files any more.
    ...(stack.postgresUrl && existsSync(join(dataDir, 'ferretdb', 'sqlite'))
      ? [`  note: ${join(dataDir, 'ferretdb', 'sqlite')} holds data of the earlier SQLite backend, which is no longer read; \`npm run reset\` removes it`]
      : []),
    ...(stack.prometheusUrl ? [`  Prometheus      ${stack.prometheusUrl}/targets`] : []),
    ...Object.values(stack.instances).flatMap((instances) => instances.map((instance) => `  ${instance.name.padEnd(15)} ${instance.url}/metrics`)),
    `  logs            ${join(dataDir, 'logs')}`,
    `  admin token     ${stack.adminToken} (x-admin-token; random per start, also in ${join(dataDir, 'admin-token')})`,
    'Ctrl-C stops everything.',
    '',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`\n${signal}: stopping tracemart...\n`);
    stack.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  // A closed terminal: stop in order too, or nats-server and FerretDB would be left running.
  process.on('SIGHUP', () => shutdown('SIGHUP'));
}

main().catch((err: unknown) => {
  process.stderr.write(`tracemart failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
