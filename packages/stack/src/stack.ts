import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startInfraIn, type Infra, type InfraOptions } from './infra';
import { planLayout, type StackLayout } from './layout';
import { exitReason, withParentDeathSignal, type ManagedProcess, type SpawnOptions } from './process';
import { ProcessGroup, type KillOptions, type Readiness } from './process-group';
import { httpOk, waitUntil } from './ports';
import { startPrometheus } from './prometheus';
import { randomSecrets, secretFile, secretsFromEnv, type StackSecrets } from './secrets';
import { DEFAULT_STACK_METRICS_PORT, STACK_METRICS_JOB, serveMetrics } from './stack-metrics';
import { toolPath } from './tools';
import { processNames, serviceNames, type Instance, type InstanceCounts, type ProcessName } from './topology';

/** How one service or the gateway is started: a command, given the environment tracemart sets for it. */
export interface LaunchSpec {
  command: string;
  args: string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** Run once the command has exited, however it ended (e.g. remove a container its client left behind). */
  afterExit?: () => void;
}
/** `instance` is which copy of the service this is (its name is unique in the stack: `order`, `order-2`). */
export type Launcher = (name: ProcessName, appEnv: Record<string, string>, instance: Instance) => LaunchSpec;

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
  /**
   * Instances per service (default: `INSTANCES_<SERVICE>`, else `INSTANCES`, else 1; the gateway always runs once and
   * balances over them). Further instances are `order-2`, `order-3` on the first's port + 100, + 200 (or free ports).
   */
  instances?: InstanceCounts;
  /** Extra environment for every service and the gateway (OTEL_*, LOG_LEVEL, ...). */
  env?: Record<string, string>;
  /** Per-process environment overrides (for every instance of that service). */
  envFor?: Partial<Record<ProcessName, Record<string, string>>>;
  readyTimeoutMs?: number;
  /** Also start Prometheus scraping every process (port: `prometheusPort`, else free with freePorts, else 9090). */
  prometheus?: boolean;
  prometheusPort?: number;
  /**
   * Restart a process that exits unexpectedly (crash, `kill -9`, OOM) after an exponential backoff (default true; see
   * ProcessGroup). `stop()`, `restart(name)` and `kill(name, signal, { restart: false })` never cause one.
   */
  supervise?: boolean;
  /** The stack's own /metrics (tracemart_process_restarts_total): default 9400, a free port with freePorts. */
  metricsPort?: number;
  /** Secrets to use (else from `env`'s JWT_SECRET, ADMIN_TOKEN, INTERNAL_AUTH_SECRET, PAYMENT_TOKEN_KEY, else random). */
  secrets?: Partial<StackSecrets>;
}

/**
 * The running system. Its infrastructure's URLs, NATS nodes, replicas and processes are `Infra`'s (the processes now
 * include every service instance, the gateway and Prometheus; `restart` waits for a service's /readyz too).
 */
export interface Stack extends Pick<Infra, 'natsUrl' | 'natsNodes' | 'natsReplicas' | 'mongoUrl' | 'postgresUrl' | 'processes' | 'restart'> {
  /** Where every process listens: `stackProcesses(layout)` names the processes this stack runs. */
  layout: StackLayout;
  gatewayUrl: string;
  /** The first instance of each process (`order` on 3003): see `instances` for all of them. */
  urls: Record<ProcessName, string>;
  ports: Record<ProcessName, number>;
  /** Every instance of each process, the first one first. */
  instances: Record<ProcessName, Instance[]>;
  /** Secret shared by the user service (signs) and the gateway (verifies). */
  jwtSecret: string;
  /** INTERNAL_AUTH_SECRET of the gateway and every service: the gateway signs identity assertions with it, services verify. */
  internalAuthSecret: string;
  /**
   * Where the first instance of each process serves /metrics: a service's own URL; for the gateway, its metrics
   * listener (METRICS_PORT), since its public port does not serve metrics.
   */
  metricsUrls: Record<ProcessName, string>;
  /** The admin API's credential (`x-admin-token`) on every process of this stack. */
  adminToken: string;
  prometheusUrl?: string;
  /** The stack's own metrics (`<metricsUrl>/metrics`), scraped by its Prometheus as job `stack`. */
  metricsUrl: string;
  /**
   * Sends `signal` (default SIGKILL) to a process and waits for its exit. The supervisor restarts it after its
   * backoff, unless `{ restart: false }`: then it stays down until `restart(name)`.
   */
  kill: (name: string, signal?: NodeJS.Signals, options?: KillOptions) => Promise<ManagedProcess>;
  stop: () => Promise<void>;
}

/** The environment variable naming a process's URL(s): ORDER_URL, GATEWAY_URL, ... */
const urlVariable = (name: ProcessName) => `${name.toUpperCase()}_URL`;

/**
 * The environment of one service instance or the gateway: where NATS, MongoDB and every other process are, the
 * secrets it needs (the card-token key for order and payment only), its name, port and instance id. `startStack` and
 * the per-process entry both build it here.
 */
export function appEnvironment(
  name: ProcessName,
  instance: Instance,
  layout: StackLayout,
  secrets: StackSecrets,
  options: { env?: Record<string, string> | undefined; envFor?: Partial<Record<ProcessName, Record<string, string>>> | undefined } = {},
): Record<string, string> {
  const common: Record<string, string> = {
    NATS_URL: layout.natsUrl,
    NATS_REPLICAS: String(layout.natsReplicas),
    MONGODB_URL: layout.mongoUrl,
    HOST: '127.0.0.1',
    JWT_SECRET: secrets.jwtSecret,
    ADMIN_TOKEN: secrets.adminToken,
    INTERNAL_AUTH_SECRET: secrets.internalAuthSecret,
    // Every instance, comma-separated: the gateway balances over them and ejects one that fails.
    ...Object.fromEntries(processNames.map((other) => [urlVariable(other), layout.instances[other].map((i) => i.url).join(',')])),
    ...options.env,
  };
  return {
    ...common,
    ...(name === 'order' || name === 'payment' ? { PAYMENT_TOKEN_KEY: secrets.paymentTokenKey } : {}),
    SERVICE_NAME: name,
    OTEL_SERVICE_NAME: name,
    PORT: String(instance.port),
    INSTANCE_ID: instance.id,
    // The gateway's metrics listener, apart from its public port.
    ...(name === 'gateway' ? { METRICS_PORT: String(layout.gatewayMetricsPort) } : {}),
    ...options.envFor?.[name],
  };
}

/** How one service instance or the gateway is spawned and when it is ready (its /readyz answers). */
export function appProcess(
  name: ProcessName,
  instance: Instance,
  appEnv: Record<string, string>,
  options: { root: string; dataDir: string; launcher?: Launcher | undefined; readyTimeoutMs?: number | undefined; onLine?: ((name: string, line: string) => void) | undefined },
): { spawn: SpawnOptions; ready: Readiness } {
  const spec = (options.launcher ?? sourceLauncher(options.root))(name, appEnv, instance);
  return {
    spawn: {
      name: instance.name,
      ...spec,
      ...withParentDeathSignal(spec.command, spec.args),
      logFile: join(options.dataDir, 'logs', `${instance.name}.log`),
      ...(options.onLine ? { onLine: options.onLine } : {}),
    },
    ready: (proc) =>
      waitUntil(
        `${instance.name} /readyz`,
        () => httpOk(`${instance.url}/readyz`),
        options.readyTimeoutMs ?? 60_000,
        100,
        () => exitReason(proc),
      ),
  };
}

/** What the local Prometheus scrapes: one job per service (a target per instance), the gateway's metrics listener. */
export function prometheusOptions(
  root: string,
  layout: StackLayout,
  extra: { localJobs?: Record<string, number>; onLine?: ((name: string, line: string) => void) | undefined } = {},
): Parameters<typeof startPrometheus>[0] {
  return {
    root,
    dataDir: layout.dataDir,
    ports: Object.fromEntries(processNames.map((name) => [name, name === 'gateway' ? [layout.gatewayMetricsPort] : layout.instances[name].map((i) => i.port)])),
    port: layout.prometheusPort,
    ...(extra.localJobs ? { localJobs: extra.localJobs } : {}),
    binary: toolPath(root, 'prometheus'),
    ...(extra.onLine ? { onLine: extra.onLine } : {}),
  };
}

/**
 * Starts the whole local system: infrastructure, every instance of the six services, then the gateway; waits for
 * /readyz. The processes and their order are those of `stackProcesses(layout)`; each is built by the function the
 * per-process entry (`npm run stack:process -- <name>`, Tilt's local mode) uses too.
 */
export async function startStack(options: StackOptions): Promise<Stack> {
  const group = new ProcessGroup({ supervise: options.supervise ?? true });
  const metrics = await serveMetrics(group.registry, options.metricsPort ?? (options.freePorts ? 0 : DEFAULT_STACK_METRICS_PORT));
  let layout: StackLayout;
  let infra: Infra;
  try {
    layout = await planLayout(options);
    infra = await startInfraIn(group, options, layout);
  } catch (err) {
    await metrics.close();
    throw err;
  }
  try {
    const { instances } = layout;
    const first = (name: ProcessName) => instances[name][0] as Instance;
    const urls = Object.fromEntries(processNames.map((name) => [name, first(name).url])) as Record<ProcessName, string>;
    const ports = Object.fromEntries(processNames.map((name) => [name, first(name).port])) as Record<ProcessName, number>;
    // Random per start unless given (ADMIN_TOKEN, JWT_SECRET, ...), so no well-known token opens a running stack.
    const secrets = randomSecrets({ ...secretsFromEnv(options.env ?? {}), ...options.secrets });
    const metricsUrls = { ...urls, gateway: `http://127.0.0.1:${layout.gatewayMetricsPort}` };
    for (const name of [...serviceNames, 'gateway'] as const) {
      for (const instance of instances[name]) {
        const app = appProcess(name, instance, appEnvironment(name, instance, layout, secrets, options), { ...options, readyTimeoutMs: options.readyTimeoutMs });
        group.spawn(app.spawn, app.ready, 'app');
      }
    }
    for (const name of processNames) for (const instance of instances[name]) await group.ready(instance.name);
    let prometheusUrl: string | undefined;
    if (options.prometheus) {
      const prometheus = await startPrometheus(prometheusOptions(options.root, layout, { localJobs: { [STACK_METRICS_JOB]: metrics.port }, onLine: options.onLine }));
      group.add(prometheus.process, prometheus.ready, 'app');
      prometheusUrl = prometheus.url;
    }
    return {
      layout,
      gatewayUrl: urls.gateway,
      urls,
      ports,
      instances,
      natsUrl: infra.natsUrl,
      natsNodes: infra.natsNodes,
      natsReplicas: infra.natsReplicas,
      mongoUrl: infra.mongoUrl,
      ...(infra.postgresUrl ? { postgresUrl: infra.postgresUrl } : {}),
      processes: group.processes,
      restart: (name) => group.restart(name),
      jwtSecret: secrets.jwtSecret,
      internalAuthSecret: secrets.internalAuthSecret,
      metricsUrls,
      adminToken: secrets.adminToken,
      ...(prometheusUrl ? { prometheusUrl } : {}),
      metricsUrl: metrics.url,
      kill: (name, signal, killOptions) => group.kill(name, signal, killOptions),
      stop: async () => {
        await group.stop();
        await metrics.close();
      },
    };
  } catch (err) {
    await group.stop();
    await metrics.close();
    throw err;
  }
}

/** Where `npm start` keeps the running stack's admin token for the fault CLI, the load harness and k6 (0600). */
export const adminTokenFile = (dataDir: string): string => secretFile(dataDir, 'adminToken');

/** The running local stack's admin token, if one is running from `dataDir`. */
export function readAdminToken(dataDir: string): string | undefined {
  const file = adminTokenFile(dataDir);
  return existsSync(file) ? readFileSync(file, 'utf8').trim() || undefined : undefined;
}

/** Writes the stack's URLs for other tools (the fault CLI, k6) to find, and its admin token (owner-only). */
export function writeStackFile(dataDir: string, stack: Stack): void {
  const file = {
    gatewayUrl: stack.gatewayUrl,
    urls: stack.urls,
    instances: stack.instances,
    natsUrl: stack.natsUrl,
    natsNodes: stack.natsNodes.map(({ name, url, monitorUrl }) => ({ name, url, monitorUrl })),
    natsReplicas: stack.natsReplicas,
    mongoUrl: stack.mongoUrl,
    prometheusUrl: stack.prometheusUrl,
    metricsUrl: stack.metricsUrl,
  };
  writeFileSync(join(dataDir, 'stack.json'), JSON.stringify(file, null, 2));
  writeFileSync(adminTokenFile(dataDir), `${stack.adminToken}\n`, { mode: 0o600 });
  chmodSync(adminTokenFile(dataDir), 0o600);
}
