import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedProducts } from '@tracemart/catalog-seed';
import { paymentTokenSeal } from '@tracemart/contracts';
import { runService, type EventEnvelope } from '@tracemart/platform';
import { eventsOf, eventually, serviceEnv, testEvent, useComponent } from '@tracemart/testing';
import { inventoryModule } from '../src/module';
import { mergeLines, type Line, type ReservationStatus } from '../src/domain/reservation';
import { stockChanges, stockChangesCollection, stockLedger } from '../src/data/stock-ledger';

/**
 * Two inventory instances on one database consume the same durable under checkout load concentrated on three
 * products with little stock, with cancellations and confirmations arriving while orders are still being placed.
 */
const inventory = useComponent(inventoryModule, { INSTANCE_ID: 'inventory-a' });
const seen = inventory.observe('INVENTORY', 'inventory.>');

let second: { stop: () => Promise<void> } | undefined;
beforeAll(async () => {
  second = await runService(inventoryModule, serviceEnv(inventory.infra, { INSTANCE_ID: 'inventory-b' }));
});
afterAll(async () => {
  await second?.stop();
});

const STOCK = 10;
const ORDERS = 300;
const WAVE = 30;
const hot = seedProducts.slice(0, 3);

/** mulberry32: the same orders every run; what the instances make of them still depends on timing. */
function seeded(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const random = seeded(13);
const between = (low: number, high: number): number => low + Math.floor(random() * (high - low + 1));

/** Card tokens travel sealed for the payment service; inventory never opens them. */
const cardTokens = paymentTokenSeal('k'.repeat(32));
const placed = (orderId: string, lines: readonly Line[]) =>
  testEvent('orders.placed', {
    orderId,
    userId: 'u1',
    items: lines.map(({ productId, quantity }) => ({ productId, name: productId, quantity, unitPriceCents: 100 })),
    totalCents: 100 * lines.reduce((sum, line) => sum + line.quantity, 0),
    paymentTokenSealed: cardTokens.seal('tok_visa', orderId),
  });
const cancelled = (orderId: string) => testEvent('orders.cancelled', { orderId, userId: 'u1', reason: 'PAYMENT_DECLINED' });
const confirmed = (orderId: string) => testEvent('orders.confirmed', { orderId, userId: 'u1', totalCents: 100 });

/** What the test does with an order: cancel it before it is placed, or, once reserved, cancel, confirm or keep it. */
type Fate = 'cancel-first' | 'cancel' | 'confirm' | 'keep';
interface TestOrder {
  orderId: string;
  lines: Line[]; // as inventory sees them: one line per product
  event: EventEnvelope;
  fate: Fate;
  /** Published twice, under two event ids (a redelivery past JetStream's duplicate window). */
  twice: boolean;
}

function order(): TestOrder {
  const orderId = randomUUID();
  const raw = Array.from({ length: between(1, 3) }, () => ({ productId: hot[between(0, hot.length - 1)]?.id ?? 'none', quantity: between(1, 3) }));
  const roll = random();
  const fate: Fate = roll < 0.1 ? 'cancel-first' : roll < 0.55 ? 'cancel' : roll < 0.8 ? 'confirm' : 'keep';
  return { orderId, lines: mergeLines(raw), event: placed(orderId, raw), fate, twice: random() < 0.15 };
}

/** What a reserved order becomes once the test has answered it. */
const settledAs = { cancel: 'RELEASED', confirm: 'COMMITTED', keep: 'RESERVED' } as const;

const unitsOf = (orders: readonly TestOrder[], productId: string): number =>
  orders.reduce((sum, o) => sum + (o.lines.find((line) => line.productId === productId)?.quantity ?? 0), 0);

describe('two inventory instances', () => {
  it('when they reserve, release and commit concurrently for hundreds of orders on three scarce products, then stock is never oversold and adds up', async () => {
    const { bus, db } = inventory;
    // Arrange: each hot product down to STOCK units, by a confirmed order of the rest (so sold starts above 0).
    const initial = new Map(hot.map((p) => [p.id, p.initialStock]));
    const arranged: TestOrder[] = hot.map((p) => {
      const orderId = randomUUID();
      const lines = [{ productId: p.id, quantity: p.initialStock - STOCK }];
      return { orderId, lines, event: placed(orderId, lines), fate: 'confirm', twice: false };
    });
    await Promise.all(arranged.map((o) => bus.publish(o.event)));
    await eventually(
      async () => arranged.filter((o) => eventsOf(seen, o.orderId, 'inventory.reserved').length > 0).length,
      (count) => count === arranged.length,
    );
    await Promise.all(arranged.map((o) => bus.publish(confirmed(o.orderId))));
    await eventually(
      async () => arranged.filter((o) => eventsOf(seen, o.orderId, 'inventory.committed').length > 0).length,
      (count) => count === arranged.length,
    );

    const orders = Array.from({ length: ORDERS }, order);
    const answered = new Set<string>();
    /** Cancels or confirms each order newly seen reserved, as the order service would after payment. */
    const answer = async (): Promise<number> => {
      const due = orders.filter((o) => !answered.has(o.orderId) && o.fate !== 'cancel-first' && eventsOf(seen, o.orderId, 'inventory.reserved').length > 0);
      for (const o of due) answered.add(o.orderId);
      await Promise.all(due.filter((o) => o.fate !== 'keep').map((o) => bus.publish(o.fate === 'cancel' ? cancelled(o.orderId) : confirmed(o.orderId))));
      return due.length;
    };
    for (let start = 0; start < orders.length; start += WAVE) {
      // Each wave is placed while the previous wave's answers (units given back, committed) are being handled.
      await Promise.all(
        orders.slice(start, start + WAVE).map(async (o) => {
          if (o.fate === 'cancel-first') await bus.publish(cancelled(o.orderId));
          await bus.publish(o.event);
          if (o.twice) await bus.publish({ ...o.event, id: randomUUID() });
        }),
      );
      await inventory.settled(undefined, 60_000);
      await answer();
    }
    do await inventory.settled(undefined, 60_000);
    while ((await answer()) > 0);

    // Every order was decided once, and its decision was published once.
    const statuses = new Map((await db.collection<{ _id: string; status: ReservationStatus }>('reservations').find({}).toArray()).map((doc) => [doc._id, doc.status]));
    const decisions = (o: TestOrder) => new Set([...eventsOf(seen, o.orderId, 'inventory.reserved'), ...eventsOf(seen, o.orderId, 'inventory.rejected')].map((e) => e.id));
    for (const o of orders) {
      const status = statuses.get(o.orderId);
      const expected: ReservationStatus[] = o.fate === 'cancel-first' ? ['CANCELLED', 'RELEASED', 'REJECTED'] : [settledAs[o.fate], 'REJECTED'];
      expect(expected, `order ${o.orderId} (${o.fate})`).toContain(status);
      expect(decisions(o).size, `decisions of ${o.orderId}`).toBe(status === 'CANCELLED' ? 0 : 1);
      expect(eventsOf(seen, o.orderId, 'inventory.reserved').length > 0, `order ${o.orderId}`).toBe(status !== 'REJECTED' && status !== 'CANCELLED');
    }
    const all = [...arranged, ...orders];
    const withStatus = (...wanted: ReservationStatus[]) => all.filter((o) => wanted.includes(statuses.get(o.orderId) ?? 'PENDING'));
    // The load did what it is for: orders of every outcome, and units given back and taken again.
    for (const status of ['RESERVED', 'REJECTED', 'RELEASED', 'COMMITTED', 'CANCELLED'] as const) expect(withStatus(status).length, status).toBeGreaterThan(0);
    const everReserved = withStatus('RESERVED', 'RELEASED', 'COMMITTED').filter((o) => !arranged.includes(o));
    expect(hot.reduce((sum, p) => sum + unitsOf(everReserved, p.id), 0)).toBeGreaterThan(hot.length * STOCK);

    const ledger = await stockLedger(db);
    const changes = stockChangesCollection(db);
    for (const { id: productId } of hot) {
      const start = initial.get(productId) ?? 0;
      // Never oversold, at any version: no total negative, and they always add up to the initial stock.
      const history = await stockChanges(db, productId);
      expect(history.map((change) => change.version)).toEqual(history.map((_, index) => index + 1));
      for (const change of history) {
        expect(Math.min(change.available, change.reserved, change.sold), `${productId} version ${change.version}`).toBeGreaterThanOrEqual(0);
        expect(change.available + change.reserved + change.sold, `${productId} version ${change.version}`).toBe(start);
      }
      // Settled: reserved are the units of orders still RESERVED, sold those of confirmed ones.
      const entry = ledger.find((e) => e.productId === productId);
      expect(entry).toEqual({
        productId,
        version: history.length,
        initial: start,
        available: start - unitsOf(withStatus('RESERVED', 'COMMITTED'), productId),
        reserved: unitsOf(withStatus('RESERVED'), productId),
        sold: unitsOf(withStatus('COMMITTED'), productId),
      });
      // Order by order: a reserved order holds its units, a confirmed one committed them, every other holds nothing.
      for (const o of all) {
        const line = o.lines.find((l) => l.productId === productId);
        if (!line) continue;
        const take = await changes.findOne({ productId, op: `take:${o.orderId}` });
        const end = await changes.findOne({ productId, op: `end:${o.orderId}` });
        const status = statuses.get(o.orderId);
        const held = take !== null && end === null ? take.quantity : 0;
        expect(held, `${o.orderId} (${status}) holds of ${productId}`).toBe(status === 'RESERVED' ? line.quantity : 0);
        if (status === 'COMMITTED') expect(end, `${o.orderId} commit of ${productId}`).toMatchObject({ kind: 'commit', quantity: line.quantity });
        else if (end) expect(end.kind).toBe('give-back');
      }
    }
    // Both instances changed stock.
    const takes = await changes.find({ kind: 'take' }, { projection: { writer: 1 } }).toArray();
    expect(new Set(takes.map((change) => change.writer))).toEqual(new Set(['inventory-a', 'inventory-b']));
  }, 240_000);
});
