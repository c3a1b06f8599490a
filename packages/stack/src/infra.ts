import { join } from 'node:path';
import type { ManagedProcess } from './process';
import { ProcessGroup } from './process-group';
import { planLayout, type StackLayout } from './layout';
import { startFerretDb } from './ferretdb';
import { startNatsNodes, type NatsNode } from './nats-cluster';
import { startPostgres } from './postgres';

export interface InfraOptions {
  root: string;
  dataDir: string;
  /** Use these instead of starting nats-server / FerretDB (and its PostgreSQL). */
  natsUrl?: string | undefined;
  mongoUrl?: string | undefined;
  /**
   * nats-servers to start (default: `NATS_NODES`, else 3): three make a JetStream cluster whose streams keep working
   * when one node is down; 1 is a single server without cluster flags, for a small machine.
   */
  natsNodes?: number;
  /**
   * Fixed ports (4222/27017/5432 are taken by the machine's own servers, so the defaults are 4250/27050/5450). NATS
   * node i (from 0) listens on natsPort + i, routes on 6250 + i, monitoring on 8250 + i.
   */
  natsPort?: number;
  mongoPort?: number;
  postgresPort?: number;
  freePorts?: boolean;
  /** The data folder is deleted after stop (tests): skips fsyncing a new PostgreSQL cluster's files (0.2-2 s). */
  ephemeral?: boolean;
  onLine?: (name: string, line: string) => void;
}

export interface Infra {
  /** Every NATS node's client URL, comma-separated (what NATS_URL takes; the client fails over between them). */
  natsUrl: string;
  /** The nats-servers this started (none with an external natsUrl). */
  natsNodes: NatsNode[];
  /** Replicas of streams and KV buckets on this NATS (NATS_REPLICAS): min(3, nodes), 1 on an external server. */
  natsReplicas: number;
  mongoUrl: string;
  /** The PostgreSQL database behind FerretDB, when FerretDB was started. */
  postgresUrl?: string;
  /** The running processes by name (`nats-1`.., `postgres`, `ferretdb`); `restart` replaces entries. */
  processes: Map<string, ManagedProcess>;
  /** Starts a (killed) process again as it was and waits until it is ready: see ProcessGroup.restart. */
  restart: (name: string) => Promise<ManagedProcess>;
  stop: () => Promise<void>;
}

/**
 * Starts nats-server (JetStream; a 3-node cluster by default) and FerretDB on a private PostgreSQL cluster
 * (`<dataDir>/postgres`, see postgres.ts) unless external URLs are given. Stopping stops PostgreSQL last.
 */
export async function startInfra(options: InfraOptions): Promise<Infra> {
  return startInfraIn(new ProcessGroup(), options);
}

/**
 * startInfra into a given group, so that startStack's services and these processes are restarted and stopped
 * together; on the ports of `planned` (planned from `options` when not given).
 */
export async function startInfraIn(group: ProcessGroup, options: InfraOptions, planned?: StackLayout): Promise<Infra> {
  const infra = (parts: Pick<Infra, 'natsUrl' | 'natsNodes' | 'natsReplicas' | 'mongoUrl' | 'postgresUrl'>): Infra => ({
    ...parts,
    processes: group.processes,
    restart: (name) => group.restart(name),
    stop: () => group.stop(),
  });
  try {
    const layout = planned ?? (await planLayout(options));
    let natsNodes: NatsNode[] = [];
    if (layout.nats.length > 0) {
      natsNodes = await startNatsNodes(group, {
        root: options.root,
        dataDir: options.dataDir,
        nodes: layout.nats.length,
        plans: layout.nats,
        ...(options.onLine ? { onLine: options.onLine } : {}),
      });
    }
    let postgresUrl: string | undefined;
    if (layout.postgresPort !== undefined && layout.mongoPort !== undefined) {
      const postgres = await startPostgres({
        dataDir: options.dataDir,
        port: layout.postgresPort,
        ...(options.ephemeral ? { ephemeral: true } : {}),
        logFile: join(options.dataDir, 'logs', 'postgres.log'),
        ...(options.onLine ? { onLine: options.onLine } : {}),
      });
      group.add(postgres.process, postgres.ready, 'storage');
      postgresUrl = postgres.url;
      await startFerretDb(group, {
        root: options.root,
        dataDir: options.dataDir,
        postgresUrl,
        port: layout.mongoPort,
        ...(options.onLine ? { onLine: options.onLine } : {}),
      });
    }
    return infra({ natsUrl: layout.natsUrl, natsNodes, natsReplicas: layout.natsReplicas, mongoUrl: layout.mongoUrl, ...(postgresUrl ? { postgresUrl } : {}) });
  } catch (err) {
    await group.stop();
    throw err;
  }
}
