import { randomUUID } from 'node:crypto';
import { MongoClient, type Db } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedProducts, type SeedProduct } from '@tracemart/catalog-seed';
import { createLogger, OutboxRelay } from '@tracemart/platform';
import { useComponent } from '@tracemart/testing';
import { inventoryModule } from '../src/module';
import { createStockStore, type StockStore } from '../src/data/stock';
import { stockChanges, stockChangesCollection, stockLedger, stockSnapshots } from '../src/data/stock-ledger';

/**
 * The stock store itself, with several stores on separate connections to one database: what several inventory
 * instances are to each other. The service runs only for its infrastructure (and its bus, for the stores' relays).
 */
const inventory = useComponent(inventoryModule);

const clients: MongoClient[] = [];
afterAll(async () => {
  await Promise.all(clients.map((client) => client.close()));
});

/** A database of its own for one test, so ledgers of different tests never meet. */
const freshDb = (): Db => {
  const [client] = clients;
  if (!client) throw new Error('no test client');
  return client.db(`ledger_${randomUUID().slice(0, 8)}`);
};

/** `count` stores on one database, each through its own client (its own connections), like separate instances. */
async function storesOn(db: Db, count: number): Promise<StockStore[]> {
  const logger = createLogger('test', 'silent');
  return Promise.all(
    Array.from({ length: count }, async (_, n) => {
      const client = await MongoClient.connect(inventory.infra.mongoUrl);
      clients.push(client);
      return createStockStore(client.db(db.databaseName), (sources) => new OutboxRelay(inventory.bus, sources, logger), { writer: `store-${n}` });
    }),
  );
}

const product = (id: string, initialStock: number): SeedProduct => ({ id, name: id, description: id, category: 'test', priceCents: 100, initialStock });

beforeAll(async () => {
  clients.push(await MongoClient.connect(inventory.infra.mongoUrl));
});

/** Every version of the product, 1 to n without a gap, keeps the running totals whole and never negative. */
async function expectConsistentLedger(db: Db, productId: string, initial: number): Promise<void> {
  const changes = await stockChanges(db, productId);
  expect(changes.map((change) => change.version)).toEqual(changes.map((_, index) => index + 1));
  for (const change of changes) {
    expect(Math.min(change.available, change.reserved, change.sold)).toBeGreaterThanOrEqual(0);
    expect(change.available + change.reserved + change.sold).toBe(initial);
  }
}

describe('the stock ledger', () => {
  it('when 30 stores on separate connections take from one product at once, then no more units than it has are taken', async () => {
    const db = freshDb();
    const stores = await storesOn(db, 30);
    const [first] = stores;
    if (!first) throw new Error('no store');
    for (const round of [1, 2, 3]) {
      const productId = `race-${round}`;
      await first.seed([product(productId, 10)]);
      const quantities = stores.map((_, n) => 1 + ((n * round) % 3));
      const outcomes = await Promise.all(stores.map((store, n) => store.take(`order-${n}`, [{ productId, quantity: quantities[n] ?? 1 }])));
      const takenUnits = outcomes.reduce((sum, outcome, n) => sum + (outcome.taken ? (quantities[n] ?? 0) : 0), 0);
      expect(takenUnits).toBeLessThanOrEqual(10);
      // Every refused take asked for more than was left at the end: none was turned away while it would have fitted.
      const refused = quantities.filter((_, n) => !outcomes[n]?.taken);
      expect(Math.min(...refused)).toBeGreaterThan(10 - takenUnits);
      const [entry] = (await stockLedger(db)).filter((e) => e.productId === productId);
      expect(entry).toMatchObject({ initial: 10, available: 10 - takenUnits, reserved: takenUnits, sold: 0 });
      expect(await first.get(productId)).toEqual({ productId, available: 10 - takenUnits, reserved: takenUnits });
      await expectConsistentLedger(db, productId, 10);
    }
  });

  it('when stores take, give back and commit at once for many orders, then the totals stay whole at every version', async () => {
    const db = freshDb();
    const stores = await storesOn(db, 4);
    const [first] = stores;
    if (!first) throw new Error('no store');
    await first.seed([product('busy-a', 12), product('busy-b', 8)]);
    const orders = Array.from({ length: 40 }, (_, n) => ({
      orderId: `busy-${n}`,
      lines: [{ productId: 'busy-a', quantity: 1 + (n % 2) }, ...(n % 3 === 0 ? [{ productId: 'busy-b', quantity: 1 }] : [])],
    }));
    const finals = await Promise.all(
      orders.map(async ({ orderId, lines }, n) => {
        const store = stores[n % stores.length] ?? first;
        const outcome = await store.take(orderId, lines);
        if (!outcome.taken) {
          await store.giveBack(orderId, lines); // as the use case does once the rejection is recorded
          return 'rejected';
        }
        if (n % 4 === 0) return 'held';
        if (n % 2 === 0) await store.commit(orderId, lines);
        else await store.giveBack(orderId, lines);
        // A second store repeats the end (a redelivery elsewhere): it changes nothing.
        await (stores[(n + 1) % stores.length] ?? first).giveBack(orderId, lines);
        return n % 2 === 0 ? 'committed' : 'given back';
      }),
    );
    const units = (productId: string, final: string) =>
      orders.filter((_, n) => finals[n] === final).reduce((sum, order) => sum + (order.lines.find((line) => line.productId === productId)?.quantity ?? 0), 0);
    for (const [productId, initial] of [
      ['busy-a', 12],
      ['busy-b', 8],
    ] as const) {
      await expectConsistentLedger(db, productId, initial);
      const [entry] = (await stockLedger(db)).filter((e) => e.productId === productId);
      expect(entry).toMatchObject({ initial, reserved: units(productId, 'held'), sold: units(productId, 'committed') });
    }
    expect(finals.filter((final) => final !== 'rejected').length).toBeGreaterThan(0);
    // Rejected orders hold nothing: each take they made was given back.
    const changes = stockChangesCollection(db);
    for (const [n, order] of orders.entries()) {
      if (finals[n] !== 'rejected') continue;
      for (const { productId } of order.lines) {
        const take = await changes.findOne({ productId, op: `take:${order.orderId}` });
        if (take) expect(await changes.findOne({ productId, op: `end:${order.orderId}` })).toMatchObject({ kind: 'give-back', quantity: take.quantity });
      }
    }
  });

  it('when a store starts with a head older than the ledger, then its next change lands after the latest one', async () => {
    const db = freshDb();
    const [a, b] = await storesOn(db, 2);
    if (!a || !b) throw new Error('no stores');
    await a.seed([product('stale', 20)]);
    await a.take('o1', [{ productId: 'stale', quantity: 2 }]); // a's head: version 2
    await b.take('o2', [{ productId: 'stale', quantity: 3 }]); // version 3, unknown to a
    await b.commit('o2', [{ productId: 'stale', quantity: 3 }]); // version 4
    // The snapshot goes back to version 1, as when an older write of it lands last.
    await stockSnapshots(db).updateOne({ _id: 'stale' }, { $set: { version: 1, available: 20, reserved: 0, sold: 0 } });
    expect(await a.get('stale')).toEqual({ productId: 'stale', available: 15, reserved: 2 });
    await a.take('o3', [{ productId: 'stale', quantity: 1 }]); // tried at version 3 from a's head, lands at 5
    const changes = await stockChanges(db, 'stale');
    expect(changes.map(({ version, op }) => `${version} ${op}`)).toEqual(['1 seed', '2 take:o1', '3 take:o2', '4 end:o2', '5 take:o3']);
    expect(changes.map((change) => change.writer)).toEqual(['store-0', 'store-0', 'store-1', 'store-1', 'store-0']);
    expect(await b.get('stale')).toEqual({ productId: 'stale', available: 14, reserved: 3 });
    await expectConsistentLedger(db, 'stale', 20);
  });

  it('when an order is given back, then a redelivered take or commit of it changes nothing', async () => {
    const db = freshDb();
    const [store] = await storesOn(db, 1);
    if (!store) throw new Error('no store');
    await store.seed([product('again', 5), product('other', 1)]);
    const lines = [{ productId: 'again', quantity: 2 }];
    expect(await store.take('o1', lines)).toEqual({ taken: true });
    expect(await store.take('o1', lines)).toEqual({ taken: true }); // a redelivery: already held
    await store.giveBack('o1', lines);
    expect(await store.take('o1', lines)).toEqual({ taken: false, short: lines[0] }); // taken once, ended: not again
    await store.commit('o1', lines);
    await store.giveBack('o1', lines);
    expect((await stockChanges(db, 'again')).map((change) => change.op)).toEqual(['seed', 'take:o1', 'end:o1']);
    // A short line ends the take; what was taken stays held until the caller, having decided, gives it back.
    const both = [
      { productId: 'again', quantity: 1 },
      { productId: 'other', quantity: 2 },
    ];
    expect(await store.take('o2', both)).toEqual({ taken: false, short: both[1] });
    expect(await store.get('again')).toEqual({ productId: 'again', available: 4, reserved: 1 });
    await store.giveBack('o2', both);
    expect(await store.get('again')).toEqual({ productId: 'again', available: 5, reserved: 0 });
    expect(await store.get('other')).toEqual({ productId: 'other', available: 1, reserved: 0 });
    expect(await store.take('o3', [{ productId: 'unknown', quantity: 1 }])).toMatchObject({ taken: false });
    expect(await store.get('unknown')).toBeNull();
  });

  it('when two instances seed at once, then every product is seeded exactly once', async () => {
    const db = freshDb();
    const stores = await storesOn(db, 2);
    const inserted = await Promise.all(stores.map((store) => store.seed(seedProducts)));
    expect(inserted.reduce((sum, n) => sum + n, 0)).toBe(seedProducts.length);
    const ledger = await stockLedger(db);
    expect(ledger.map((entry) => entry.productId)).toEqual(seedProducts.map((p) => p.id).sort((a, b) => a.localeCompare(b)));
    for (const entry of ledger) expect(entry).toMatchObject({ version: 1, initial: seedProducts.find((p) => p.id === entry.productId)?.initialStock });
    expect(await stockSnapshots(db).countDocuments({})).toBe(seedProducts.length);
    expect(await stores[0]?.seed(seedProducts)).toBe(0);
  });

  it('when stock documents from before the ledger exist, then their units and the holds of reserved orders move into it', async () => {
    const db = freshDb();
    await stockSnapshots(db).insertMany([
      { _id: 'old-a', available: 5, reserved: 3, holds: ['held', 'unfinished'] },
      { _id: 'old-b', available: 7, reserved: 0, holds: [] },
    ]);
    // 'held' is RESERVED (2 units of old-a); 'unfinished' took 1 unit but its delivery never decided (a redelivery takes again).
    await db
      .collection<{ _id: string; status: string; lines: { productId: string; quantity: number }[]; updatedAt: Date }>('reservations')
      .insertOne({ _id: 'held', status: 'RESERVED', lines: [{ productId: 'old-a', quantity: 2 }], updatedAt: new Date() });
    const [store] = await storesOn(db, 1);
    if (!store) throw new Error('no store');
    expect(await store.seed([product('old-a', 50), product('old-b', 50), product('new-c', 9)])).toBe(3);
    expect(await stockLedger(db)).toEqual([
      { productId: 'new-c', version: 1, initial: 9, available: 9, reserved: 0, sold: 0 },
      { productId: 'old-a', version: 2, initial: 8, available: 6, reserved: 2, sold: 0 },
      { productId: 'old-b', version: 1, initial: 7, available: 7, reserved: 0, sold: 0 },
    ]);
    expect(await stockSnapshots(db).countDocuments({ holds: { $exists: true } })).toBe(0);
    await store.commit('held', [{ productId: 'old-a', quantity: 2 }]);
    expect(await stockLedger(db)).toContainEqual({ productId: 'old-a', version: 3, initial: 8, available: 6, reserved: 0, sold: 2 });
    expect(await store.seed([product('old-a', 50)])).toBe(0);
    await expectConsistentLedger(db, 'old-a', 8);
  });
});
