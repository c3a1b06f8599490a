import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CommandStartedEvent, Document } from 'mongodb';
import { runService, type RunningService } from '@tracemart/platform';
import { seedProducts } from '@tracemart/catalog-seed';
import { eventually, identityHeaders, serviceEnv, startTestInfra, startCatalogStub, testInternalAuthSecret } from '@tracemart/testing';
import { inventoryModule } from '@tracemart/inventory-service/module';
import { notificationModule } from '@tracemart/notification-service/module';
import { orderModule } from '@tracemart/order-service/module';
import { paymentModule } from '@tracemart/payment-service/module';
import { userModule } from '@tracemart/user-service/module';

/**
 * Every query the saga and its reads make, as the services really send them (MongoDB command monitoring on
 * their own clients), explained by FerretDB: each filter must reach PostgreSQL (`filterPushdown`), and on the
 * collections that grow with orders PostgreSQL must have an index it can answer it from (a GIN twin, see
 * packages/stack/src/postgres-indexes.ts, on a field the filter pins to a value), so the cost does not grow with
 * the table. PostgreSQL's own choice is reported too, but on tables of a few rows it rightly prefers a scan.
 * Only `stock`, one document per product, needs no index. README.md "Hot queries" lists what this test finds.
 */
type Infra = Awaited<ReturnType<typeof startTestInfra>>;
let infra: Infra;
let catalog: Awaited<ReturnType<typeof startCatalogStub>>;
const services: RunningService[] = [];
const seen = new Map<string, { db: string; collection: string; command: string; filter: Document }>();
const SMALL_BY_NATURE = new Set(['stock']);

/** The filters of one command (an update or delete carries several). */
function filtersOf(event: CommandStartedEvent): { collection: string; filter: Document }[] {
  const c = event.command;
  switch (event.commandName) {
    case 'find':
      return [{ collection: c.find as string, filter: (c.filter ?? {}) as Document }];
    case 'count':
      return [{ collection: c.count as string, filter: (c.query ?? {}) as Document }];
    case 'findAndModify':
      return [{ collection: c.findAndModify as string, filter: (c.query ?? {}) as Document }];
    case 'update':
      return (c.updates as { q: Document }[]).map((u) => ({ collection: c.update as string, filter: u.q }));
    case 'delete':
      return (c.deletes as { q: Document }[]).map((d) => ({ collection: c.delete as string, filter: d.q }));
    default:
      return [];
  }
}

/** Top-level fields the filter pins to a scalar: the conditions FerretDB hands to PostgreSQL as `@>`. */
const pinnedFields = (filter: Document): string[] =>
  Object.entries(filter)
    .filter(([key, value]) => !key.startsWith('$') && !key.includes('.') && ['string', 'number', 'boolean'].includes(typeof value))
    .map(([key]) => key);

/** Fields of `collection` that have a GIN index on `(_jsonb -> field)` in FerretDB's PostgreSQL. */
function ginFields(db: string, collection: string): Set<string> {
  const psql = (sql: string) => execFileSync('psql', [infra.postgresUrl ?? '', '-X', '-At', '-c', sql], { encoding: 'utf8' });
  const table = psql(`select _jsonb->>'table' from "${db}"._ferretdb_database_metadata where _jsonb->>'_id' = '${collection}'`).trim();
  const definitions = psql(`select indexdef from pg_indexes where schemaname = '${db}' and tablename = '${table}'`);
  return new Set([...definitions.matchAll(/USING gin \(\(\(_jsonb -> '([^']+)'::text\)\)\)/g)].map((match) => match[1] ?? ''));
}

/** A filter's shape: field names and operators, values replaced, so one query made many times counts once. */
const shapeOf = (filter: Document): unknown =>
  Object.fromEntries(
    Object.entries(filter).map(([key, value]) => [
      key,
      value && typeof value === 'object' && !Array.isArray(value) && !(value instanceof Date) ? shapeOf(value as Document) : typeof value,
    ]),
  );

beforeAll(async () => {
  infra = await startTestInfra();
  catalog = await startCatalogStub();
  // monitorCommands in the URL: each service's own client reports every command it sends.
  // PAYMENT_TOKEN_KEY: order seals the card token, payment opens it.
  const env = (extra: Record<string, string> = {}) => serviceEnv(infra, { MONGODB_URL: `${infra.mongoUrl}/?monitorCommands=true`, PAYMENT_TOKEN_KEY: 'p'.repeat(32), ...extra });
  services.push(await runService(userModule, env()));
  services.push(await runService(inventoryModule, env()));
  services.push(await runService(paymentModule, env({ PROCESSOR_LATENCY_MS: '0' })));
  services.push(await runService(notificationModule, env()));
  services.push(await runService(orderModule, env({ GATEWAY_URL: catalog.url, SAGA_SWEEP_INTERVAL_MS: '200', SAGA_TIMEOUT_MS: '600000' })));
  for (const service of services) {
    service.infra.db.client.on('commandStarted', (event: CommandStartedEvent) => {
      for (const { collection, filter } of filtersOf(event)) {
        if (Object.keys(filter).length === 0) continue; // no filter: a listing, not a lookup
        const key = JSON.stringify([event.databaseName, collection, event.commandName, shapeOf(filter)]);
        if (!seen.has(key)) seen.set(key, { db: event.databaseName, collection, command: event.commandName, filter });
      }
    });
  }
}, 120_000);

afterAll(async () => {
  for (const service of services.reverse()) await service.stop();
  await catalog?.close();
  await infra?.stop();
});

const running = (index: number) => (): RunningService => {
  const service = services[index];
  if (!service) throw new Error(`service ${index} did not start`);
  return service;
};
const [user, inventory, payment, notification, order] = [running(0), running(1), running(2), running(3), running(4)];

async function call(service: RunningService, path: string, userId: string, init: RequestInit = {}): Promise<{ status: number; body: Document }> {
  const identity = identityHeaders({ userId, secret: testInternalAuthSecret });
  const response = await fetch(`${service.url}${path}`, {
    ...init,
    headers: { 'content-type': 'application/json', ...identity, ...(init.headers as Record<string, string> | undefined) },
  });
  return { status: response.status, body: (await response.json()) as Document };
}

async function checkout(userId: string, productId: string, paymentToken: string): Promise<string> {
  const placed = await call(order(), '/orders', userId, {
    method: 'POST',
    headers: { 'idempotency-key': randomUUID() },
    body: JSON.stringify({ items: [{ productId, quantity: 1 }], paymentToken }),
  });
  expect(placed.status).toBe(202);
  const id = placed.body.id as string;
  await eventually(
    async () => (await call(order(), `/orders/${id}`, userId)).body.status as string,
    (status) => status !== 'PENDING',
  );
  return id;
}

describe('hot-path query plans', () => {
  it('when orders are confirmed, declined and rejected and then read, then every query is pushed down and, on growing collections, served by an index', async ({ annotate }) => {
    const userId = randomUUID();
    const [first, second, third] = seedProducts;
    if (!first || !second || !third) throw new Error('seed catalog too small');
    // Out of stock: the inventory's own collection, emptied for this product.
    await inventory()
      .infra.db.collection<{ _id: string }>('stock')
      .updateOne({ _id: third.id }, { $set: { available: 0 } });
    const confirmed = await checkout(userId, first.id, 'tok_visa');
    await checkout(userId, second.id, 'tok_chargeDeclined');
    await checkout(userId, third.id, 'tok_visa');
    // Repeat a checkout with its key: the replay path.
    const key = randomUUID();
    const body = JSON.stringify({ items: [{ productId: first.id, quantity: 1 }], paymentToken: 'tok_visa' });
    for (let i = 0; i < 2; i++) await call(order(), '/orders', userId, { method: 'POST', headers: { 'idempotency-key': key }, body });
    // The reads a customer makes.
    await eventually(
      async () => ((await call(order(), '/orders', userId)).body.items as unknown[]).length,
      (n) => n >= 4,
    );
    await call(order(), `/orders/${confirmed}?asOf=${encodeURIComponent(new Date().toISOString())}`, userId);
    await call(order(), `/orders/${confirmed}/history`, userId);
    await eventually(
      async () => ((await call(notification(), '/notifications', userId)).body.items as unknown[]).length,
      (n) => n >= 3,
    );
    await call(payment(), `/payments/${confirmed}/ledger`, userId);
    await call(inventory(), `/inventory/${first.id}`, userId);
    const email = `plans-${randomUUID()}@example.com`;
    expect((await call(user(), '/users/register', userId, { method: 'POST', body: JSON.stringify({ email, password: 'correct horse battery', name: 'Plan' }) })).status).toBe(201);
    expect((await call(user(), '/users/login', userId, { method: 'POST', body: JSON.stringify({ email, password: 'correct horse battery' }) })).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 1_500)); // the outbox sweeps and the saga sweeper run at least once

    const report: string[] = [];
    const failures: string[] = [];
    for (const { db, collection, command, filter } of seen.values()) {
      const client = services[0]?.infra.db.client;
      if (!client) throw new Error('no client');
      const explained = await client.db(db).command({ explain: { find: collection, filter } });
      const chosen = JSON.stringify(explained.queryPlanner ?? {}).includes('Index Scan') ? 'index scan' : 'seq scan';
      const usable = pinnedFields(filter).filter((field) => ginFields(db, collection).has(field));
      report.push(`${db}.${collection} ${command} ${JSON.stringify(shapeOf(filter))}: pushdown=${explained.filterPushdown} index on ${usable.join(',') || '-'} (now: ${chosen})`);
      if (explained.filterPushdown !== true) failures.push(`not pushed down: ${report.at(-1)}`);
      else if (usable.length === 0 && !SMALL_BY_NATURE.has(collection)) failures.push(`no index: ${report.at(-1)}`);
    }
    await annotate(`hot queries (${seen.size}):\n${report.sort().join('\n')}`);
    expect(seen.size).toBeGreaterThan(15);
    expect(failures).toEqual([]);
  });
});
