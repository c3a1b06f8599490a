import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnManaged, type ManagedProcess } from './process';
import { canConnect, freePort, httpOk, waitUntil } from './ports';
import { startPostgres } from './postgres';
import { startPrometheus } from './prometheus';

export const serviceNames = ['user', 'catalog', 'order', 'inventory', 'payment', 'notification'] as const;
export type ServiceName = (typeof serviceNames)[number];
export type ProcessName = ServiceName | 'gateway';

export const defaultPorts: Record<ProcessName, number> = {
  gateway: 8080,
  user: 3001,
  catalog: 3002,
  order: 3003,
  inventory: 3004,
  payment: 3005,
  notification: 3006,
};

export interface InfraOptions {
  root: string;
  dataDir: string;
  /** Use these instead of starting nats-server / FerretDB (and its PostgreSQL). */
  natsUrl?: string | undefined;
  mongoUrl?: string | undefined;
  /** Fixed ports (4222/27017/5432 are taken by the machine's own servers, so the defaults are 4250/27050/5450). */
  natsPort?: number;
  mongoPort?: number;
  postgresPort?: number;
  freePorts?: boolean;
  /** The data folder is deleted after stop (tests): skips fsyncing a new PostgreSQL cluster's files (0.2-2 s). */
  ephemeral?: boolean;
  onLine?: (name: string, line: string) => void;
}

export interface Infra {
  natsUrl: string;
  mongoUrl: string;
  /** The PostgreSQL database behind FerretDB, when FerretDB was started. */
  postgresUrl?: string;
  processes: ManagedProcess[];
  stop: () => Promise<void>;
}

export function toolPath(root: string, name: string): string {
  const local = join(root, '.tools', 'bin', name);
  if (existsSync(local)) return local;
  for (const dir of ['/usr/sbin', '/usr/bin', '/usr/local/bin']) {
    if (existsSync(join(dir, name))) return join(dir, name);
  }
  throw new Error(`${name} is not installed: run \`npm run setup\` (scripts/setup.sh)`);
}

/**
 * Starts nats-server (JetStream) and FerretDB on a private PostgreSQL cluster (`<dataDir>/postgres`, see
 * postgres.ts) unless external URLs are given. Stopping stops PostgreSQL last, after FerretDB.
 */
export async function startInfra(options: InfraOptions): Promise<Infra> {
  const processes: ManagedProcess[] = [];
  const stop = async () => {
    await Promise.all(processes.filter((p) => p.name !== 'postgres').map((p) => p.stop()));
    await Promise.all(processes.filter((p) => p.name === 'postgres').map((p) => p.stop()));
  };
  try {
    let natsUrl = options.natsUrl;
    if (!natsUrl) {
      const port = options.freePorts ? await freePort() : (options.natsPort ?? 4250);
      const storeDir = join(options.dataDir, 'nats');
      mkdirSync(storeDir, { recursive: true });
      processes.push(
        spawnManaged({
          name: 'nats',
          command: toolPath(options.root, 'nats-server'),
          args: ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', storeDir, '-n', 'tracemart-local'],
          logFile: join(options.dataDir, 'logs', 'nats.log'),
          ...(options.onLine ? { onLine: options.onLine } : {}),
        }),
      );
      await waitUntil('nats-server', () => canConnect(port), 15_000);
      natsUrl = `nats://127.0.0.1:${port}`;
    }
    let mongoUrl = options.mongoUrl;
    let postgresUrl: string | undefined;
    if (!mongoUrl) {
      const postgres = await startPostgres({
        dataDir: options.dataDir,
        port: options.freePorts ? await freePort() : (options.postgresPort ?? 5450),
        ...(options.ephemeral ? { ephemeral: true } : {}),
        logFile: join(options.dataDir, 'logs', 'postgres.log'),
        ...(options.onLine ? { onLine: options.onLine } : {}),
      });
      processes.push(postgres.process);
      postgresUrl = postgres.url;
      const port = options.freePorts ? await freePort() : (options.mongoPort ?? 27050);
      const debugPort = await freePort();
      const stateDir = join(options.dataDir, 'ferretdb');
      mkdirSync(stateDir, { recursive: true });
      processes.push(
        spawnManaged({
          name: 'ferretdb',
          command: toolPath(options.root, 'ferretdb'),
          // The URL holds PostgreSQL's password: in the environment (readable only by its owner), not in `ps`.
          env: { ...process.env, FERRETDB_POSTGRESQL_URL: postgresUrl },
          args: [
            '--handler=postgresql',
            `--state-dir=${stateDir}`,
            `--listen-addr=127.0.0.1:${port}`,
            `--debug-addr=127.0.0.1:${debugPort}`,
            '--telemetry=disable',
            '--log-level=error',
            '--log-format=json',
          ],
          logFile: join(options.dataDir, 'logs', 'ferretdb.log'),
          ...(options.onLine ? { onLine: options.onLine } : {}),
        }),
      );
      await waitUntil('FerretDB', () => canConnect(port), 15_000);
      mongoUrl = `mongodb://127.0.0.1:${port}`;
    }
    return { natsUrl, mongoUrl, ...(postgresUrl ? { postgresUrl } : {}), processes, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** How one service or the gateway is started: a command, given the environment tracemart sets for it. */
export interface LaunchSpec {
  command: string;
  args: string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** Run once the command has exited, however it ended (e.g. remove a container its client left behind). */
  afterExit?: () => void;
}
export type Launcher = (name: ProcessName, appEnv: Record<string, string>) => LaunchSpec;

/**
 * V8's young generation capped at 4 MiB semi-spaces (default 16): each process then holds about 25 MiB less, idle
 * and under load (measured on the whole stack: 1233 -> 1088 MiB of RSS at idle), for slightly more frequent minor
 * collections. The image's CMD and the cluster's dev overlay use the same flag.
 */
export const NODE_FLAGS = ['--max-semi-space-size=4'];

/** The default: each process from its sources, with this Node and tsx (what `npm start` runs). */
export const sourceLauncher =
  (root: string): Launcher =>
  (name, appEnv) => ({
    command: process.execPath,
    args: [...NODE_FLAGS, '--require', 'tsx/cjs', '--require', '@tracemart/platform/preload', 'src/main.ts'],
    cwd: name === 'gateway' ? join(root, 'gateway') : join(root, 'services', name),
    env: { ...process.env, ...appEnv },
  });

export interface StackOptions extends InfraOptions {
  /** How each service and the gateway is started (default: `sourceLauncher`; see also `containerLauncher`). */
  launcher?: Launcher;
  /** Extra environment for every service and the gateway (OTEL_*, LOG_LEVEL, ...). */
  env?: Record<string, string>;
  /** Per-process environment overrides. */
  envFor?: Partial<Record<ProcessName, Record<string, string>>>;
  readyTimeoutMs?: number;
  /** Also start Prometheus scraping every process (port: `prometheusPort`, else free with freePorts, else 9090). */
  prometheus?: boolean;
  prometheusPort?: number;
}

export interface Stack {
  gatewayUrl: string;
  urls: Record<ProcessName, string>;
  ports: Record<ProcessName, number>;
  natsUrl: string;
  mongoUrl: string;
  postgresUrl?: string;
  processes: Map<string, ManagedProcess>;
  /** Secret shared by the user service (signs) and the gateway (verifies). */
  jwtSecret: string;
  /** The admin API's credential (`x-admin-token`) on every process of this stack. */
  adminToken: string;
  prometheusUrl?: string;
  stop: () => Promise<void>;
}

/** Starts the whole local system: infrastructure, the six services, then the gateway; waits for /readyz. */
export async function startStack(options: StackOptions): Promise<Stack> {
  const infra = await startInfra(options);
  const processes = new Map<string, ManagedProcess>(infra.processes.map((p) => [p.name, p]));
  const stopAll = async () => {
    const apps = [...processes.values()].filter((p) => !infra.processes.includes(p));
    // Services first (they drain NATS and close MongoDB), infrastructure last.
    await Promise.all(apps.map((p) => p.stop()));
    await infra.stop();
  };
  try {
    const ports = { ...defaultPorts };
    if (options.freePorts) for (const name of Object.keys(ports) as ProcessName[]) ports[name] = await freePort();
    const urls = Object.fromEntries(Object.entries(ports).map(([name, port]) => [name, `http://127.0.0.1:${port}`])) as Record<ProcessName, string>;
    const jwtSecret = options.env?.JWT_SECRET ?? randomBytes(32).toString('hex');
    // The admin credential (fault injection, dead letters, consumer pause): random per start unless ADMIN_TOKEN is
    // given, so no well-known token opens the admin API of a running stack.
    const adminToken = options.env?.ADMIN_TOKEN ?? randomBytes(16).toString('hex');
    const common: Record<string, string> = {
      NATS_URL: infra.natsUrl,
      MONGODB_URL: infra.mongoUrl,
      HOST: '127.0.0.1',
      JWT_SECRET: jwtSecret,
      ADMIN_TOKEN: adminToken,
      GATEWAY_URL: urls.gateway,
      USER_URL: urls.user,
      CATALOG_URL: urls.catalog,
      ORDER_URL: urls.order,
      INVENTORY_URL: urls.inventory,
      PAYMENT_URL: urls.payment,
      NOTIFICATION_URL: urls.notification,
      ...options.env,
    };
    const launcher = options.launcher ?? sourceLauncher(options.root);
    const launch = (name: ProcessName) => {
      const { afterExit, ...spec } = launcher(name, { ...common, SERVICE_NAME: name, OTEL_SERVICE_NAME: name, PORT: String(ports[name]), ...options.envFor?.[name] });
      const proc = spawnManaged({
        name,
        ...spec,
        logFile: join(options.dataDir, 'logs', `${name}.log`),
        ...(options.onLine ? { onLine: options.onLine } : {}),
      });
      if (afterExit) void proc.exited.then(afterExit);
      processes.set(name, proc);
      return proc;
    };
    const timeout = options.readyTimeoutMs ?? 60_000;
    const ready = async (name: ProcessName) => {
      const proc = processes.get(name);
      const exited = () =>
        proc && (proc.child.exitCode !== null || proc.child.signalCode !== null)
          ? `exited with ${proc.child.exitCode ?? proc.child.signalCode}: ${proc.lines.slice(-5).join('\n')}`
          : undefined;
      await waitUntil(`${name} /readyz`, () => httpOk(`${urls[name]}/readyz`), timeout, 100, exited);
    };
    for (const name of serviceNames) launch(name);
    launch('gateway');
    for (const name of [...serviceNames, 'gateway'] as const) await ready(name);
    let prometheusUrl: string | undefined;
    if (options.prometheus) {
      const prometheus = await startPrometheus({
        root: options.root,
        dataDir: options.dataDir,
        ports,
        port: options.prometheusPort ?? (options.freePorts ? await freePort() : 9090),
        binary: toolPath(options.root, 'prometheus'),
        ...(options.onLine ? { onLine: options.onLine } : {}),
      });
      processes.set('prometheus', prometheus.process);
      prometheusUrl = prometheus.url;
    }
    return {
      gatewayUrl: urls.gateway,
      urls,
      ports,
      natsUrl: infra.natsUrl,
      mongoUrl: infra.mongoUrl,
      ...(infra.postgresUrl ? { postgresUrl: infra.postgresUrl } : {}),
      processes,
      jwtSecret,
      adminToken,
      ...(prometheusUrl ? { prometheusUrl } : {}),
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

/** Where `npm start` keeps the running stack's admin token for the fault CLI, the load harness and k6 (0600). */
export const adminTokenFile = (dataDir: string): string => join(dataDir, 'admin-token');

/** The running local stack's admin token, if one is running from `dataDir`. */
export function readAdminToken(dataDir: string): string | undefined {
  const file = adminTokenFile(dataDir);
  return existsSync(file) ? readFileSync(file, 'utf8').trim() || undefined : undefined;
}

/** Writes the stack's URLs for other tools (the fault CLI, k6) to find, and its admin token (owner-only). */
export function writeStackFile(dataDir: string, stack: Stack): void {
  writeFileSync(
    join(dataDir, 'stack.json'),
    JSON.stringify({ gatewayUrl: stack.gatewayUrl, urls: stack.urls, natsUrl: stack.natsUrl, mongoUrl: stack.mongoUrl, prometheusUrl: stack.prometheusUrl }, null, 2),
  );
  writeFileSync(adminTokenFile(dataDir), `${stack.adminToken}\n`, { mode: 0o600 });
  chmodSync(adminTokenFile(dataDir), 0o600);
}
