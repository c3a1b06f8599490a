import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startInfraIn, type Infra, type InfraOptions } from './infra';
import { exitReason, withParentDeathSignal } from './process';
import { ProcessGroup } from './process-group';
import { freePort, httpOk, waitUntil } from './ports';
import { startPrometheus } from './prometheus';
import { toolPath } from './tools';
import { instanceCounts, planInstances, processNames, serviceNames, type Instance, type InstanceCounts, type ProcessName } from './topology';

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
}

/**
 * The running system. Its infrastructure's URLs, NATS nodes, replicas and processes are `Infra`'s (the processes now
 * include every service instance, the gateway and Prometheus; `restart` waits for a service's /readyz too).
 */
export interface Stack extends Pick<Infra, 'natsUrl' | 'natsNodes' | 'natsReplicas' | 'mongoUrl' | 'postgresUrl' | 'processes' | 'restart'> {
  gatewayUrl: string;
  /** The first instance of each process (`order` on 3003): see `instances` for all of them. */
  urls: Record<ProcessName, string>;
  ports: Record<ProcessName, number>;
  /** Every instance of each process, the first one first. */
  instances: Record<ProcessName, Instance[]>;
  /** Secret shared by the user service (signs) and the gateway (verifies). */
  jwtSecret: string;
  /** The admin API's credential (`x-admin-token`) on every process of this stack. */
  adminToken: string;
  prometheusUrl?: string;
  stop: () => Promise<void>;
}

/** The environment variable naming a process's URL(s): ORDER_URL, GATEWAY_URL, ... */
const urlVariable = (name: ProcessName) => `${name.toUpperCase()}_URL`;

/** Starts the whole local system: infrastructure, every instance of the six services, then the gateway; waits for /readyz. */
export async function startStack(options: StackOptions): Promise<Stack> {
  const group = new ProcessGroup();
  const infra = await startInfraIn(group, options);
  try {
    const instances = await planInstances(instanceCounts(options.instances), options);
    const first = (name: ProcessName) => instances[name][0] as Instance;
    const urls = Object.fromEntries(processNames.map((name) => [name, first(name).url])) as Record<ProcessName, string>;
    const ports = Object.fromEntries(processNames.map((name) => [name, first(name).port])) as Record<ProcessName, number>;
    const jwtSecret = options.env?.JWT_SECRET ?? randomBytes(32).toString('hex');
    // The admin credential (fault injection, dead letters, consumer pause): random per start unless ADMIN_TOKEN is
    // given, so no well-known token opens the admin API of a running stack.
    const adminToken = options.env?.ADMIN_TOKEN ?? randomBytes(16).toString('hex');
    const common: Record<string, string> = {
      NATS_URL: infra.natsUrl,
      NATS_REPLICAS: String(infra.natsReplicas),
      MONGODB_URL: infra.mongoUrl,
      HOST: '127.0.0.1',
      JWT_SECRET: jwtSecret,
      ADMIN_TOKEN: adminToken,
      // Every instance, comma-separated: the gateway balances over them and ejects one that fails.
      ...Object.fromEntries(processNames.map((name) => [urlVariable(name), instances[name].map((i) => i.url).join(',')])),
      ...options.env,
    };
    const launcher = options.launcher ?? sourceLauncher(options.root);
    const timeout = options.readyTimeoutMs ?? 60_000;
    for (const name of [...serviceNames, 'gateway'] as const) {
      for (const instance of instances[name]) {
        const appEnv = { ...common, SERVICE_NAME: name, OTEL_SERVICE_NAME: name, PORT: String(instance.port), INSTANCE_ID: instance.id, ...options.envFor?.[name] };
        const spec = launcher(name, appEnv, instance);
        group.spawn(
          {
            name: instance.name,
            ...spec,
            ...withParentDeathSignal(spec.command, spec.args),
            logFile: join(options.dataDir, 'logs', `${instance.name}.log`),
            ...(options.onLine ? { onLine: options.onLine } : {}),
          },
          (proc) =>
            waitUntil(
              `${instance.name} /readyz`,
              () => httpOk(`${instance.url}/readyz`),
              timeout,
              100,
              () => exitReason(proc),
            ),
          'app',
        );
      }
    }
    for (const name of processNames) for (const instance of instances[name]) await group.ready(instance.name);
    let prometheusUrl: string | undefined;
    if (options.prometheus) {
      const prometheus = await startPrometheus({
        root: options.root,
        dataDir: options.dataDir,
        ports: Object.fromEntries(processNames.map((name) => [name, instances[name].map((i) => i.port)])),
        port: options.prometheusPort ?? (options.freePorts ? await freePort() : 9090),
        binary: toolPath(options.root, 'prometheus'),
        ...(options.onLine ? { onLine: options.onLine } : {}),
      });
      group.add(prometheus.process, prometheus.ready, 'app');
      prometheusUrl = prometheus.url;
    }
    return {
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
      jwtSecret,
      adminToken,
      ...(prometheusUrl ? { prometheusUrl } : {}),
      stop: () => group.stop(),
    };
  } catch (err) {
    await group.stop();
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
  const file = {
    gatewayUrl: stack.gatewayUrl,
    urls: stack.urls,
    instances: stack.instances,
    natsUrl: stack.natsUrl,
    natsNodes: stack.natsNodes.map(({ name, url, monitorUrl }) => ({ name, url, monitorUrl })),
    natsReplicas: stack.natsReplicas,
    mongoUrl: stack.mongoUrl,
    prometheusUrl: stack.prometheusUrl,
  };
  writeFileSync(join(dataDir, 'stack.json'), JSON.stringify(file, null, 2));
  writeFileSync(adminTokenFile(dataDir), `${stack.adminToken}\n`, { mode: 0o600 });
  chmodSync(adminTokenFile(dataDir), 0o600);
}
