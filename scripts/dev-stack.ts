/**
 * `npm start`: runs the whole system locally on embedded defaults, no Docker.
 * Starts nats-server (JetStream) and FerretDB on a private PostgreSQL cluster with data in .data/, then every
 * service and the gateway; prints the URLs; Ctrl-C stops everything gracefully (PostgreSQL last).
 * MONGODB_URL / NATS_URL use existing servers instead (no FerretDB, no PostgreSQL with MONGODB_URL).
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
  for (const key of ['LOG_LEVEL', 'OTEL_EXPORTER_OTLP_ENDPOINT', 'OTEL_SDK_DISABLED', 'JWT_SECRET', 'ADMIN_TOKEN']) {
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
    `  NATS            ${stack.natsUrl}`,
    `  MongoDB (wire)  ${stack.mongoUrl}`,
    ...(stack.postgresUrl
      ? [`  PostgreSQL      ${withoutPassword(stack.postgresUrl)} (FerretDB's storage, in ${clusterLocation(dataDir)}; password in its data/tracemart.password)`]
      : []),
    // FerretDB used its SQLite backend before it moved to PostgreSQL; it does not read those files any more.
    ...(stack.postgresUrl && existsSync(join(dataDir, 'ferretdb', 'sqlite'))
      ? [`  note: ${join(dataDir, 'ferretdb', 'sqlite')} holds data of the earlier SQLite backend, which is no longer read; \`npm run reset\` removes it`]
      : []),
    ...(stack.prometheusUrl ? [`  Prometheus      ${stack.prometheusUrl}/targets`] : []),
    ...Object.entries(stack.urls).map(([name, url]) => `  ${name.padEnd(15)} ${url}/metrics`),
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
