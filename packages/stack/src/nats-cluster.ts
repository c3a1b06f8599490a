import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { exitReason, ownSession, type ManagedProcess, type SpawnOptions } from './process';
import type { ProcessGroup, Readiness } from './process-group';
import { canConnect, freePort, httpOk, waitUntil } from './ports';
import { natsServerPath } from './tools';

/** One nats-server of the local stack. */
export interface NatsNode {
  /** `nats-1`, `nats-2`, ...: its server name, process name and log file (`logs/nats-1.log`). */
  name: string;
  /** Its client URL (`nats://127.0.0.1:4250`). */
  url: string;
  /** Its monitoring endpoint: `/jsz?streams=true&consumers=true` (stream and consumer leaders, replicas), `/raftz`, `/healthz`. */
  monitorUrl: string;
  /** The running process (after `restart`, the new one). */
  readonly process: ManagedProcess;
}

export interface NatsNodePlan {
  name: string;
  clientPort: number;
  /** The cluster (route) port; absent on a single node, which runs without cluster flags. */
  routePort?: number;
  monitorPort: number;
  storeDir: string;
}

/**
 * `npm start`'s fixed ports, node i (from 0) at base + i, away from a NATS of the machine's own (4222, 6222, 8222):
 * clients 4250.., routes 6250.., monitoring 8250...
 */
export const NATS_BASE_PORTS = { client: 4250, route: 6250, monitor: 8250 } as const;
export const NATS_CLUSTER_NAME = 'tracemart';
export const DEFAULT_NATS_NODES = 3;
const MAX_NATS_NODES = 7;

/** How many nats-servers to run: the option, else `NATS_NODES`, else 3. 1 is a single server (a small machine). */
export function natsNodeCount(option: number | undefined, env: NodeJS.ProcessEnv = process.env): number {
  const raw = option ?? (env.NATS_NODES ? Number(env.NATS_NODES) : DEFAULT_NATS_NODES);
  if (!Number.isInteger(raw) || raw < 1 || raw > MAX_NATS_NODES) {
    throw new Error(`NATS_NODES (natsNodes) must be a whole number from 1 to ${MAX_NATS_NODES}, not ${option ?? env.NATS_NODES}`);
  }
  return raw;
}

/** Stream and KV replicas on `nodes` servers: 3 where there are three or more (a Raft majority of 2 survives one loss). */
export const natsReplicas = (nodes: number): number => Math.min(3, nodes);

export async function planNatsNodes(options: { dataDir: string; nodes: number; freePorts?: boolean; clientPort?: number }): Promise<NatsNodePlan[]> {
  const clustered = options.nodes > 1;
  const plans: NatsNodePlan[] = [];
  for (let i = 0; i < options.nodes; i++) {
    const port = async (base: number) => (options.freePorts ? await freePort() : base + i);
    const clientPort = await port(options.clientPort ?? NATS_BASE_PORTS.client);
    const routePort = clustered ? await port(NATS_BASE_PORTS.route) : undefined;
    plans.push({
      name: `nats-${i + 1}`,
      clientPort,
      ...(routePort !== undefined ? { routePort } : {}),
      monitorPort: await port(NATS_BASE_PORTS.monitor),
      // A single server keeps the folder it always had; cluster nodes get their own. JetStream state written without
      // a cluster (no meta layer) is not taken over by a cluster node, nor the other way round.
      storeDir: join(options.dataDir, clustered ? `nats-${i + 1}` : 'nats'),
    });
  }
  return plans;
}

/** The command line of one node: JetStream on loopback, and on a cluster, routes to every node (its own is skipped). */
export function natsServerArgs(node: NatsNodePlan, all: NatsNodePlan[]): string[] {
  const args = ['-a', '127.0.0.1', '-p', String(node.clientPort), '-m', String(node.monitorPort), '-js', '-sd', node.storeDir, '-n', node.name];
  if (node.routePort === undefined) return args;
  const routes = all.map((n) => `nats://127.0.0.1:${n.routePort}`).join(',');
  return [...args, '--cluster_name', NATS_CLUSTER_NAME, '--cluster', `nats://127.0.0.1:${node.routePort}`, '--routes', routes];
}

/**
 * Ready = accepting clients and `/healthz` OK. On a cluster that means JetStream has a meta leader, this node is
 * current with it and its streams and consumers are caught up, so the first service can create R3 streams at once.
 */
const natsReady =
  (plan: NatsNodePlan, timeoutMs: number) =>
  (proc: ManagedProcess): Promise<void> =>
    waitUntil(
      `${plan.name} (JetStream /healthz)`,
      async () => (await canConnect(plan.clientPort)) && (await httpOk(`http://127.0.0.1:${plan.monitorPort}/healthz`)),
      timeoutMs,
      100,
      () => exitReason(proc),
    );

export interface StartNatsOptions {
  root: string;
  dataDir: string;
  nodes: number;
  freePorts?: boolean;
  clientPort?: number;
  onLine?: (name: string, line: string) => void;
  readyTimeoutMs?: number;
  /** Nodes planned beforehand (see planLayout); else planned here from `nodes`, `freePorts` and `clientPort`. */
  plans?: NatsNodePlan[];
}

/**
 * How one node is started and when it is ready: what `startNatsNodes` spawns for it, and what the per-process entry
 * (process-entry.ts, `npm run stack:process -- nats-1`) runs on its own.
 */
export function natsNodeProcess(
  plan: NatsNodePlan,
  all: NatsNodePlan[],
  options: { root: string; dataDir: string; onLine?: (name: string, line: string) => void; readyTimeoutMs?: number },
): { spawn: SpawnOptions; ready: Readiness } {
  mkdirSync(plan.storeDir, { recursive: true });
  return {
    spawn: {
      name: plan.name,
      ...ownSession(natsServerPath(options.root), natsServerArgs(plan, all)),
      logFile: join(options.dataDir, 'logs', `${plan.name}.log`),
      ...(options.onLine ? { onLine: options.onLine } : {}),
    },
    ready: natsReady(plan, options.readyTimeoutMs ?? 30_000),
  };
}

/** Starts the nodes together (a cluster elects its meta leader only once a majority is up) and waits for all. */
export async function startNatsNodes(group: ProcessGroup, options: StartNatsOptions): Promise<NatsNode[]> {
  const plans = options.plans ?? (await planNatsNodes(options));
  for (const plan of plans) {
    const node = natsNodeProcess(plan, plans, options);
    group.spawn(node.spawn, node.ready, 'infra');
  }
  await Promise.all(plans.map((plan) => group.ready(plan.name)));
  return plans.map((plan) => ({
    name: plan.name,
    url: `nats://127.0.0.1:${plan.clientPort}`,
    monitorUrl: `http://127.0.0.1:${plan.monitorPort}`,
    get process(): ManagedProcess {
      const proc = group.processes.get(plan.name);
      if (!proc) throw new Error(`${plan.name} is not in this stack`);
      return proc;
    },
  }));
}
