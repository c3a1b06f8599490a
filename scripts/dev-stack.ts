/**
 * `npm start`: runs the whole system locally on embedded defaults, no Docker.
 * Starts a 3-node NATS JetStream cluster and FerretDB on a private PostgreSQL cluster with data in .data/, then
 * every service and the gateway (which serves the shop at /), and Jaeger, VictoriaLogs and the OpenTelemetry Collector
 * when `npm run setup -- --all` has built them (TELEMETRY=false: not); prints the URLs; Ctrl-C stops everything
 * gracefully (PostgreSQL last).
 * MONGODB_URL / NATS_URL use existing servers instead (no FerretDB, no PostgreSQL with MONGODB_URL).
 * NATS_NODES=1 runs a single nats-server (a small machine); INSTANCES=2 runs every service twice, INSTANCES_ORDER=3
 * the order service three times (the gateway balances over them). NATS_REPLICAS overrides the streams' replicas.
 * A process that exits unexpectedly (crash, `kill -9`, OOM) is started again after a backoff (0.5 s doubling to 30 s),
 * logged as a JSON line on stderr and counted in tracemart_process_restarts_total on the stack's own /metrics (:9400);
 * SUPERVISE=false leaves it down. READY_TIMEOUT_MS (default 60000): how long a process may take to become ready.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  clusterLocation,
  passThroughEnv,
  persistedSecret,
  secretsFromEnv,
  startStack,
  startTelemetryBackends,
  TELEMETRY_PORTS,
  telemetryBinaries,
  telemetryEnv,
  writeStackFile,
  type TelemetryBackends,
} from '@tracemart/stack';

/** A database URL fit to print: its password masked. */
function withoutPassword(url: string): string {
  const parsed = new URL(url);
  if (parsed.password) parsed.password = '***';
  return parsed.toString();
}

const root = resolve(__dirname, '..');
const dataDir = join(root, '.data');
const quiet = process.env.STACK_QUIET === 'true';

function readyTimeoutMs(raw = process.env.READY_TIMEOUT_MS): number | undefined {
  if (raw === undefined || raw === '') return undefined;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`READY_TIMEOUT_MS must be a positive whole number of milliseconds, not ${raw}`);
  return value;
}

function echo(name: string, line: string): void {
  if (quiet) return;
  process.stdout.write(`${name.padEnd(12)} | ${line}\n`);
}

async function main(): Promise<void> {
  // The key sealing card tokens in orders.placed is kept in .data (0600) across starts: an order still waiting for its
  // payment when the stack stopped is charged after the next start, not declined as unreadable. The other secrets are
  // random per start (unless given).
  const secrets = secretsFromEnv(process.env);
  secrets.paymentTokenKey ??= persistedSecret(dataDir, 'paymentTokenKey');
  const readyTimeout = readyTimeoutMs();
  const started = Date.now();
  // The local telemetry backends (Jaeger, VictoriaLogs, the Collector) run with the stack once `npm run setup -- --all`
  // has built them, on the same fixed ports as `tilt up`'s local mode: the shop's "see this trace" links then open the
  // trace and its logs. TELEMETRY=false leaves them out.
  const withTelemetry = process.env.TELEMETRY !== 'false' && Object.values(telemetryBinaries(root)).every((binary) => existsSync(binary));
  const backends: TelemetryBackends | undefined = withTelemetry
    ? await startTelemetryBackends({ root, dataDir, prometheusUrl: 'http://127.0.0.1:9090', ports: TELEMETRY_PORTS, onLine: echo })
    : undefined;
  const stack = await startStack({
    root,
    dataDir,
    natsUrl: process.env.NATS_URL,
    mongoUrl: process.env.MONGODB_URL,
    env: { ...(backends ? telemetryEnv(TELEMETRY_PORTS) : {}), ...passThroughEnv(process.env) },
    secrets,
    onLine: echo,
    prometheus: process.env.PROMETHEUS !== 'false',
    supervise: process.env.SUPERVISE !== 'false',
    ...(readyTimeout ? { readyTimeoutMs: readyTimeout } : {}),
  }).catch(async (err: unknown) => {
    await backends?.stop();
    throw err;
  });
  writeStackFile(dataDir, stack);
  const lines = [
    '',
    `tracemart is up in ${((Date.now() - started) / 1000).toFixed(1)} s`,
    `  Shop            ${stack.gatewayUrl}/`,
    `  API gateway     ${stack.gatewayUrl}/api/products`,
    ...(backends
      ? [
          `  traces (Jaeger) ${backends.jaegerUrl}/api/traces/<trace id>   (OTLP in: ${backends.otlpUrl})`,
          `  logs UI         ${backends.logsUrl}/select/vmui/   (query: trace_id:="<trace id>")`,
        ]
      : ['  telemetry       trace ids in the logs only: `npm run setup -- --all` builds Jaeger, VictoriaLogs and the Collector, which npm start then runs too']),
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
    `  supervisor      ${process.env.SUPERVISE === 'false' ? 'off (SUPERVISE=false): a process that exits stays down' : 'restarts a process that exits unexpectedly'}; ${stack.metricsUrl}/metrics (tracemart_process_restarts_total)`,
    // The gateway serves its metrics on a listener of its own (METRICS_PORT), not on its public port.
    ...Object.values(stack.instances).flatMap((instances) =>
      instances.map((instance) => `  ${instance.name.padEnd(15)} ${instance.name === 'gateway' ? stack.metricsUrls.gateway : instance.url}/metrics`),
    ),
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
    stack
      .stop()
      .then(() => backends?.stop())
      .then(
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
