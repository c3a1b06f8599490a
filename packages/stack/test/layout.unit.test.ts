import { describe, expect, it } from 'vitest';
import { planLayout, stackProcesses } from '../src/layout';
import { randomSecrets } from '../src/secrets';
import { appEnvironment } from '../src/stack';
import { serviceNames } from '../src/topology';

describe('the stack layout', () => {
  it("when planned without free ports, then every process is on npm start's fixed port", async () => {
    const layout = await planLayout({ dataDir: '/d', natsNodes: 3, instances: 1 });
    expect([layout.postgresPort, layout.mongoPort, layout.prometheusPort, layout.gatewayMetricsPort]).toEqual([5450, 27050, 9090, 9464]);
    expect(layout.natsUrl).toBe('nats://127.0.0.1:4250,nats://127.0.0.1:4251,nats://127.0.0.1:4252');
    expect(layout.mongoUrl).toBe('mongodb://127.0.0.1:27050');
    expect(layout.instances.order[0]?.url).toBe('http://127.0.0.1:3003');
  });

  it('when the processes are listed, then the services wait for FerretDB and every NATS node, the gateway for every service instance, Prometheus for the gateway', async () => {
    const layout = await planLayout({ dataDir: '/d', natsNodes: 3, instances: { order: 2 } });
    const processes = stackProcesses(layout, { prometheus: true });
    const byName = Object.fromEntries(processes.map((p) => [p.name, p]));
    expect(processes.map((p) => p.name)).toEqual([
      'postgres',
      'ferretdb',
      'nats-1',
      'nats-2',
      'nats-3',
      'user',
      'catalog',
      'order',
      'order-2',
      'inventory',
      'payment',
      'notification',
      'gateway',
      'prometheus',
    ]);
    expect(byName.ferretdb?.after).toEqual(['postgres']);
    expect(byName['order-2']?.after).toEqual(['ferretdb', 'nats-1', 'nats-2', 'nats-3']);
    expect(byName.gateway?.after).toEqual(['user', 'catalog', 'order', 'order-2', 'inventory', 'payment', 'notification']);
    expect(byName['order-2']?.readiness).toEqual({ kind: 'http', port: 3103, path: '/readyz' });
    expect(byName.postgres?.readiness).toEqual({ kind: 'tcp', port: 5450 });
  });

  it('when external NATS and MongoDB URLs are given, then no infrastructure process is listed and the services use those URLs', async () => {
    const layout = await planLayout({ dataDir: '/d', natsUrl: 'nats://127.0.0.1:4999', mongoUrl: 'mongodb://127.0.0.1:27999', instances: 1 });
    expect(stackProcesses(layout, { prometheus: false }).map((p) => p.name)).toEqual([...serviceNames, 'gateway']);
    const env = appEnvironment('order', layout.instances.order[0]!, layout, randomSecrets());
    expect([env.NATS_URL, env.MONGODB_URL, env.NATS_REPLICAS]).toEqual(['nats://127.0.0.1:4999', 'mongodb://127.0.0.1:27999', '1']);
  });

  it('when a process environment is built, then the card-token key goes to order and payment only and the gateway gets its metrics port', async () => {
    const layout = await planLayout({ dataDir: '/d', natsNodes: 1, instances: 1 });
    const secrets = randomSecrets();
    for (const name of serviceNames) {
      const env = appEnvironment(name, layout.instances[name][0]!, layout, secrets);
      expect(env.PAYMENT_TOKEN_KEY !== undefined, name).toBe(name === 'order' || name === 'payment');
      expect(env.ADMIN_TOKEN).toBe(secrets.adminToken);
    }
    const gateway = appEnvironment('gateway', layout.instances.gateway[0]!, layout, secrets, { env: { LOG_LEVEL: 'debug' } });
    expect(gateway.METRICS_PORT).toBe('9464');
    expect(gateway.ORDER_URL).toBe('http://127.0.0.1:3003');
    expect(gateway.LOG_LEVEL).toBe('debug');
  });
});
