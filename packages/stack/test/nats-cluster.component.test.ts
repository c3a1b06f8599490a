import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNatsNodes, type NatsNode } from '../src/nats-cluster';
import { ProcessGroup } from '../src/process-group';

const root = resolve(__dirname, '..', '..', '..');

interface Jsz {
  meta_cluster?: { leader?: string; cluster_size: number; replicas?: { name: string; current: boolean; offline?: boolean }[] };
}
const jsz = async (node: NatsNode): Promise<Jsz> => (await fetch(`${node.monitorUrl}/jsz`, { signal: AbortSignal.timeout(2_000) })).json() as Promise<Jsz>;

/** The peers the meta leader sees as current, itself included. */
async function currentPeers(nodes: NatsNode[]): Promise<string[]> {
  const leaderName = (await jsz(nodes[0]!)).meta_cluster?.leader;
  const leader = nodes.find((n) => n.name === leaderName)!;
  const meta = (await jsz(leader)).meta_cluster!;
  return [leader.name, ...(meta.replicas ?? []).filter((r) => r.current && !r.offline).map((r) => r.name)].sort();
}

describe('a 3-node JetStream cluster', () => {
  let dir: string;
  const group = new ProcessGroup();
  let nodes: NatsNode[];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'nats-cluster-'));
    nodes = await startNatsNodes(group, { root, dataDir: dir, nodes: 3, freePorts: true });
  });
  afterAll(async () => {
    await group.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('when it is ready, then every node follows the same meta leader in a cluster of three', async () => {
    const views = await Promise.all(nodes.map(jsz));
    expect(new Set(views.map((v) => v.meta_cluster?.leader)).size).toBe(1);
    expect(views.map((v) => v.meta_cluster?.cluster_size)).toEqual([3, 3, 3]);
    expect(await currentPeers(nodes)).toEqual(['nats-1', 'nats-2', 'nats-3']);
  });

  it('when a node is killed with SIGKILL and restarted, then the same node rejoins and the leader sees all three current again', async () => {
    const victim = nodes[1]!;
    const killed = await group.kill(victim.name, 'SIGKILL', { restart: false });
    const revived = await group.restart(victim.name);
    expect(victim.process).toBe(revived);
    expect(revived.child.pid).not.toBe(killed.child.pid);
    const deadline = Date.now() + 15_000;
    let peers: string[] = [];
    while (Date.now() < deadline) {
      peers = await currentPeers(nodes).catch(() => []);
      if (peers.length === 3) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(peers).toEqual(['nats-1', 'nats-2', 'nats-3']);
  });
});

describe('a single NATS node', () => {
  it('when one node is asked for, then it runs JetStream without a cluster', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nats-single-'));
    const group = new ProcessGroup();
    try {
      const [node] = await startNatsNodes(group, { root, dataDir: dir, nodes: 1, freePorts: true });
      expect((await jsz(node!)).meta_cluster).toBeUndefined();
      expect((await fetch(`${node!.monitorUrl}/healthz`)).status).toBe(200);
    } finally {
      await group.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
