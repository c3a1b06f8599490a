import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allStreams, eventCatalog, PARTITIONS } from '@tracemart/contracts';
import { eventOwners, SERVICE_MODULES } from '@tracemart/docs';
import { createLogger, EventBus, runService, type PartitionOwnership, type ServiceConfig, type ServiceModule } from '@tracemart/platform';
import { catalogModule } from '@tracemart/catalog-service/module';
import { inventoryModule } from '@tracemart/inventory-service/module';
import { notificationModule } from '@tracemart/notification-service/module';
import { orderModule } from '@tracemart/order-service/module';
import { paymentModule } from '@tracemart/payment-service/module';
import { userModule } from '@tracemart/user-service/module';
import { seedProducts } from '@tracemart/catalog-seed';
import { apiClient, eventually, serviceEnv, startCatalogStub, startTestInfra, testInternalAuthSecret, type TestInfra } from '@tracemart/testing';
import { startAuthNats, type AuthNats } from './nats-auth-server';

// The cluster's NATS users (deploy/k8s/base/data/nats-auth.conf) on a real nats-server: each service may do what its code
// does and nothing of another's. MongoDB (FerretDB) is only for the services run under their users at the end.
const services = SERVICE_MODULES.map((m) => m.name);
const ownerOf = (type: string) => eventOwners[type.split('.')[0] as keyof typeof eventOwners];
const logger = createLogger('nats-permissions-test', 'silent');

let nats: AuthNats;
const buses = new Map<string, EventBus>();

beforeAll(async () => {
  nats = await startAuthNats();
  for (const service of services) {
    buses.set(service, await EventBus.connect({ url: nats.url, name: `probe-${service}`, user: service, pass: nats.passwords[service]!, logger }));
  }
});

afterAll(async () => {
  for (const bus of buses.values()) await bus.drain().catch(() => undefined);
  await nats?.stop();
});

const bus = (service: string) => buses.get(service)!;
const publish = (service: string, subject: string) => bus(service).js.publish(subject, '{}', { msgID: randomUUID(), timeout: 2_000 });
/** Resolves with the server's refusal, or with 'allowed' when the subscription holds. */
async function trySubscribe(service: string, subject: string): Promise<string> {
  const sub = bus(service).nc.subscribe(subject);
  await bus(service).nc.flush();
  await new Promise((resolve) => setTimeout(resolve, 200));
  const refused = sub.isClosed();
  sub.unsubscribe();
  return refused ? 'refused' : 'allowed';
}

describe('the NATS users of the cluster', () => {
  it('when a connection brings no user or a wrong password, then the server refuses it', async () => {
    await expect(EventBus.connect({ url: nats.url, name: 'anonymous', logger })).rejects.toThrow(/Authorization Violation/i);
    await expect(EventBus.connect({ url: nats.url, name: 'guess', user: 'order', pass: randomBytes(16).toString('hex'), logger })).rejects.toThrow(/Authorization Violation/i);
  });

  it('when each service provisions every stream at start, then it may, in any order', async () => {
    for (const service of services) await expect(bus(service).ensureStreams(allStreams), service).resolves.toBeUndefined();
  });

  it("when a service publishes its own domain's events, then JetStream stores them; another domain's, then the server refuses", async () => {
    for (const service of services) {
      for (const type of eventCatalog.types) {
        const attempt = publish(service, `${type}.o-${randomUUID()}`);
        if (ownerOf(type) === service) await expect(attempt, `${service} ${type}`).resolves.toMatchObject({ duplicate: false });
        else await expect(attempt, `${service} ${type}`).rejects.toThrow(/Permissions Violation for Publish/);
      }
    }
  });

  it("when a service writes another domain's event under its stored (partitioned) subject, or another's dead letters, then it is refused", async () => {
    await expect(publish('inventory', 'orders.placed.3.o-1')).rejects.toThrow(/Permissions Violation/);
    await expect(publish('order', 'payments.charged.0.o-1')).rejects.toThrow(/Permissions Violation/);
    await expect(publish('catalog', 'deadletter.inventory-orders')).rejects.toThrow(/Permissions Violation/);
    await expect(publish('payment', 'deadletter.inventory-orders')).rejects.toThrow(/Permissions Violation/);
    // Its own consumer's dead letters are the one thing a service writes outside its domain.
    await expect(publish('inventory', 'deadletter.inventory-orders')).resolves.toMatchObject({ stream: 'DEADLETTER' });
  });

  it('when a service subscribes to event subjects or to inboxes not its own, then it is refused; its own inbox is allowed', async () => {
    expect(await trySubscribe('catalog', 'orders.>')).toBe('refused');
    expect(await trySubscribe('order', '>')).toBe('refused');
    expect(await trySubscribe('catalog', '_INBOX.>')).toBe('refused');
    expect(await trySubscribe('catalog', '_INBOX.inventory.>')).toBe('refused');
    expect(await trySubscribe('catalog', `_INBOX.catalog.${randomUUID()}`)).toBe('allowed');
  });

  it("when a service reads or changes another service's consumer, or deletes a stream, then it is refused", async () => {
    const request = (service: string, subject: string) => bus(service).nc.request(subject, '{}', { timeout: 2_000 });
    await expect(request('inventory', '$JS.API.CONSUMER.MSG.NEXT.ORDERS.payment-orders-p0')).rejects.toThrow(/Permissions Violation/);
    await expect(request('catalog', '$JS.API.CONSUMER.CREATE.ORDERS.inventory-orders-p0')).rejects.toThrow(/Permissions Violation/);
    await expect(request('order', '$KV.partitions.payment.partition.0')).rejects.toThrow(/Permissions Violation/);
    for (const service of services) {
      await expect(request(service, '$JS.API.STREAM.DELETE.ORDERS'), service).rejects.toThrow(/Permissions Violation/);
      await expect(request(service, '$JS.API.STREAM.PURGE.PAYMENTS'), service).rejects.toThrow(/Permissions Violation/);
    }
  });
});

/** What the test keeps of a service it started. */
interface Started {
  name: string;
  url: string;
  partitions: PartitionOwnership | undefined;
  stop: () => Promise<void>;
}

describe('the six services run under their NATS users', () => {
  let infra: TestInfra;
  const running: Started[] = [];
  const adminToken = randomBytes(16).toString('hex');
  const secrets = { JWT_SECRET: randomBytes(32).toString('hex'), PAYMENT_TOKEN_KEY: randomBytes(32).toString('hex'), ADMIN_TOKEN: adminToken };

  async function start<C extends ServiceConfig, D, T extends string>(module: ServiceModule<C, D, T>, extra: Record<string, string> = {}): Promise<void> {
    const env = serviceEnv(infra, { ...secrets, ...nats.envFor(module.name), INSTANCE_ID: `${module.name}-1`, ...extra });
    const service = await runService(module, env, { logger: createLogger(module.name, 'silent') });
    running.push({ name: module.name, url: service.url, partitions: service.infra.partitions, stop: () => service.stop() });
  }

  let catalog: Awaited<ReturnType<typeof startCatalogStub>>;
  /** The violations of the services (the probes above provoke theirs on purpose; their connections are `probe-<service>`). */
  const violations = () => nats.violations().filter((line) => !line.includes('nats.js:probe-'));

  beforeAll(async () => {
    infra = await startTestInfra();
    catalog = await startCatalogStub();
    await start(userModule);
    await start(catalogModule);
    await start(orderModule, { GATEWAY_URL: catalog.url });
    await start(inventoryModule);
    await start(paymentModule);
    await start(notificationModule);
  });

  afterAll(async () => {
    for (const service of running.reverse()) await service.stop().catch(() => undefined);
    await catalog?.close();
    await infra?.stop();
  });

  it('when they start (streams, every partition of their consumers, leases, the leader election), then the server saw no violation', async () => {
    expect(running.map((s) => s.name)).toEqual(services);
    // Each partitioned service (one instance) ends up owning every partition: its leases are written and its durables run.
    const owned = async () => Object.fromEntries(running.filter((s) => s.partitions).map((s) => [s.name, s.partitions!.owned().length]));
    const settled = await eventually(owned, (counts) => Object.values(counts).every((n) => n === PARTITIONS), 30_000).catch(async () => owned());
    for (const { name, url } of running) {
      const letters = await fetch(`${url}/admin/deadletters`, { headers: { 'x-admin-token': adminToken } });
      expect(letters.status, name).toBe(200);
    }
    expect(violations()).toEqual([]);
    expect(Object.keys(settled).sort()).toEqual(['inventory', 'notification', 'order', 'payment']);
    expect(
      Object.values(settled).every((n) => n === PARTITIONS),
      JSON.stringify(settled),
    ).toBe(true);
  });

  it('when one order is paid and one card is declined, then the saga (publish, pull, ack across the services) ends CONFIRMED and CANCELLED, refused nothing', async () => {
    const order = running.find((s) => s.name === 'order')!;
    const alice = apiClient(order.url, { userId: `alice-${randomUUID()}`, secret: testInternalAuthSecret });
    const place = async (paymentToken: string) => {
      const placed = await alice.post<{ id: string }>('/orders', { items: [{ productId: seedProducts[0]!.id, quantity: 1 }], paymentToken });
      expect(placed.status, JSON.stringify(placed.body)).toBe(202);
      return placed.body.id;
    };
    const final = (id: string) =>
      eventually(
        async () => (await alice.get<{ status: string; reason?: string }>(`/orders/${id}`)).body,
        (view) => view.status !== 'PENDING',
        30_000,
      );
    const [paid, declined] = [await place('tok_visa'), await place('tok_chargeDeclined')];
    expect(await final(paid)).toMatchObject({ status: 'CONFIRMED' });
    expect(await final(declined)).toMatchObject({ status: 'CANCELLED', reason: 'PAYMENT_DECLINED' });
    expect(violations()).toEqual([]);
  });
});
