import { describe, expect, it } from 'vitest';
import { natsNodeCount, natsReplicas, natsServerArgs, planNatsNodes } from '../src/nats-cluster';

describe('the NATS nodes of the local stack', () => {
  it('when nothing is set, then three nodes run; NATS_NODES or the option say otherwise', () => {
    expect(natsNodeCount(undefined, {})).toBe(3);
    expect(natsNodeCount(undefined, { NATS_NODES: '1' })).toBe(1);
    expect(natsNodeCount(5, { NATS_NODES: '1' })).toBe(5);
    expect(() => natsNodeCount(undefined, { NATS_NODES: '0' })).toThrow('NATS_NODES (natsNodes) must be a whole number from 1 to 7, not 0');
  });

  it('when streams are provisioned, then they have three replicas on three or more nodes and as many as there are nodes below', () => {
    expect([1, 2, 3, 5].map(natsReplicas)).toEqual([1, 2, 3, 3]);
  });

  it('when ports are fixed, then node i listens on 4250+i for clients, 6250+i for routes and 8250+i for monitoring, with its own store', async () => {
    const plans = await planNatsNodes({ dataDir: '/d', nodes: 3 });
    expect(plans).toEqual([
      { name: 'nats-1', clientPort: 4250, routePort: 6250, monitorPort: 8250, storeDir: '/d/nats-1' },
      { name: 'nats-2', clientPort: 4251, routePort: 6251, monitorPort: 8251, storeDir: '/d/nats-2' },
      { name: 'nats-3', clientPort: 4252, routePort: 6252, monitorPort: 8252, storeDir: '/d/nats-3' },
    ]);
  });

  it('when a node of a cluster starts, then it names itself, joins cluster tracemart and routes to all three nodes', async () => {
    const plans = await planNatsNodes({ dataDir: '/d', nodes: 3 });
    const args = natsServerArgs(plans[1]!, plans);
    expect(args).toEqual([
      ...['-a', '127.0.0.1', '-p', '4251', '-m', '8251', '-js', '-sd', '/d/nats-2', '-n', 'nats-2'],
      ...['--cluster_name', 'tracemart', '--cluster', 'nats://127.0.0.1:6251'],
      ...['--routes', 'nats://127.0.0.1:6250,nats://127.0.0.1:6251,nats://127.0.0.1:6252'],
    ]);
  });

  it('when one node is asked for, then it runs without cluster flags on the store a single server always had', async () => {
    const plans = await planNatsNodes({ dataDir: '/d', nodes: 1 });
    expect(plans).toEqual([{ name: 'nats-1', clientPort: 4250, monitorPort: 8250, storeDir: '/d/nats' }]);
    expect(natsServerArgs(plans[0]!, plans)).not.toContain('--cluster_name');
  });

  it('when ports are free, then no two ports of the cluster are the same', async () => {
    const plans = await planNatsNodes({ dataDir: '/d', nodes: 3, freePorts: true });
    const ports = plans.flatMap((p) => [p.clientPort, p.routePort, p.monitorPort]);
    expect(new Set(ports).size).toBe(9);
    expect(ports.some((p) => [4222, 6222, 8222].includes(p!))).toBe(false);
  });
});
