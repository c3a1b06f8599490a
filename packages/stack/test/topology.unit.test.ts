import { describe, expect, it } from 'vitest';
import { instanceCounts, planInstances } from '../src/topology';

describe('instances per service', () => {
  it('when nothing is set, then every service and the gateway run once', () => {
    expect(instanceCounts(undefined, {})).toEqual({ user: 1, catalog: 1, order: 1, inventory: 1, payment: 1, notification: 1, gateway: 1 });
  });

  it('when INSTANCES and INSTANCES_ORDER are set, then the per-service one wins for its service and the gateway still runs once', () => {
    const counts = instanceCounts(undefined, { INSTANCES: '2', INSTANCES_ORDER: '3' });
    expect(counts).toMatchObject({ user: 2, order: 3, payment: 2, gateway: 1 });
  });

  it('when the option is a number, then it applies to every service whatever the environment says', () => {
    expect(instanceCounts(2, { INSTANCES_ORDER: '3' })).toMatchObject({ order: 2, catalog: 2, gateway: 1 });
  });

  it('when the option names some services, then the others come from the environment', () => {
    expect(instanceCounts({ payment: 3 }, { INSTANCES: '2' })).toMatchObject({ payment: 3, order: 2, gateway: 1 });
  });

  it('when a count is not a whole number from 1 to 9, then it fails naming the variable', () => {
    expect(() => instanceCounts(undefined, { INSTANCES_ORDER: 'two' })).toThrow('INSTANCES_ORDER must be a whole number from 1 to 9, not two');
    expect(() => instanceCounts(0, {})).toThrow('instances must be');
  });

  it('when ports are fixed, then the first instance keeps its name and port and the others are name-k on port + 100 per instance', async () => {
    const plan = await planInstances({ ...instanceCounts(undefined, {}), order: 3 }, {});
    expect(plan.order).toEqual([
      { name: 'order', id: 'order-1', url: 'http://127.0.0.1:3003', port: 3003 },
      { name: 'order-2', id: 'order-2', url: 'http://127.0.0.1:3103', port: 3103 },
      { name: 'order-3', id: 'order-3', url: 'http://127.0.0.1:3203', port: 3203 },
    ]);
    expect(plan.gateway).toEqual([{ name: 'gateway', id: 'gateway-1', url: 'http://127.0.0.1:8080', port: 8080 }]);
  });

  it('when ports are free, then every instance of every process gets its own', async () => {
    const plan = await planInstances(instanceCounts(2, {}), { freePorts: true });
    const ports = Object.values(plan).flatMap((instances) => instances.map((i) => i.port));
    expect(ports).toHaveLength(13);
    expect(new Set(ports).size).toBe(13);
  });
});
