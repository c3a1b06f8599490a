import { setTimeout as sleep } from 'node:timers/promises';
import {
  backoffDelay,
  embeddedOutbox,
  isDuplicateKeyError,
  KeyedLock,
  type Db,
  type EventEnvelope,
  type OutboxDocument,
  type OutboxRelay,
  type OutboxSource,
} from '@tracemart/platform';
import type { SeedProduct } from '@tracemart/catalog-seed';
import type { Line, ReservationStatus } from '../domain/reservation';
import { nextStock, seedStock, type StockChangeKind, type StockTotals } from '../domain/stock';
import { catchUp, changeId, endOp, readHead, SEED_OP, stockChangesCollection, stockSnapshots, takeOp, type StockHead } from './stock-ledger';

interface ReservationDocument extends OutboxDocument {
  _id: string; // the order id: one reservation per order
  status: ReservationStatus;
  lines: Line[];
  updatedAt: Date;
}

/** One product's stock, as the use cases see it. */
export interface Stock {
  productId: string;
  available: number;
  reserved: number;
}

/** One order's reservation, as the use cases see it. */
export interface Reservation {
  orderId: string;
  status: ReservationStatus;
  lines: Line[];
}

const toReservation = ({ _id, status, lines }: ReservationDocument): Reservation => ({ orderId: _id, status, lines });

/**
 * Tries at one change before it gives up (the message is then redelivered): each failed try means another writer
 * changed the product in between, so they only run out under contention far beyond a few instances.
 */
const APPEND_ATTEMPTS = 25;
const APPEND_BACKOFF = { baseMs: 4, maxMs: 200 };

/** What appending one change came to. */
type Appended = 'applied' | 'exists' | 'refused';

/**
 * Every stock change is an INSERT into `stock_changes`, a per-product ledger, and the database's unique indexes are
 * the only arbiters between writers, in this process or in another instance:
 *  - `_id` = `<productId>#<version>`: each version of a product is written once. A writer reads the head (version v,
 *    running totals), decides on it (enough available?) and inserts v+1 with the new totals; when another writer
 *    took v+1 first, the insert fails and the decision is made again on the newer head (optimistic concurrency).
 *    So every change was decided on exactly the state before it: stock is never oversold.
 *  - `{ productId, op }` with op `take:<orderId>` or `end:<orderId>`: an order takes a product's units at most once
 *    and ends that hold at most once, by a give-back OR a commit, never both. A redelivered message meets the index
 *    and changes nothing; an end applies only when the order's take exists (it moves the take's quantity).
 * Why not the conditional update `{ _id, available >= q } -> $inc` this used to be: FerretDB v1 (on PostgreSQL, what
 * runs locally) does not apply a conditional update atomically across connections. Measured: 30 concurrent
 * `updateOne({ _id, available: { $gte: 1 } }, { $inc: { available: -1 } })` on a stock of 10 all reported success and
 * left 8, in 20 of 20 trials; only inserts checked by a unique index are safe there, so with two instances the
 * update oversold. On real MongoDB the same inserts are equally correct (unique indexes are atomic there too).
 * The `stock` document per product is a snapshot `{ available, reserved, sold, version }` written after each change:
 * a hint where to start, which may lag or be overwritten by an older one. Readers catch up from it by `_id`
 * (`<productId>#<version+1>`, ... until one is missing: index lookups on both databases, on FerretDB through the GIN
 * twins of packages/stack/src/postgres-indexes.ts), and a stale start only costs a failed insert and a catch-up.
 * The per-product lock below is an optimisation, not a guarantee: within one process, changes of a product queue
 * instead of losing versions to each other. Changes of one order are one command per line, not a bulk write: FerretDB
 * v1 on PostgreSQL holds a pool connection for every statement of a command until it ends, and concurrent
 * many-statement commands can exhaust its pool and wait forever.
 * A reservation's events travel in its embedded outbox, written with the reservation and published by `relay`.
 */
export async function createStockStore(
  db: Db,
  outbox: (sources: OutboxSource[]) => OutboxRelay,
  /** `writer`: who appends the changes (the instance id), stored on each: which instance did what, when several run. */
  options: { writer?: string } = {},
) {
  const writer = options.writer ? { writer: options.writer } : {};
  const perProduct = new KeyedLock();
  const changes = stockChangesCollection(db);
  const snapshots = stockSnapshots(db);
  const reservations = db.collection<ReservationDocument>('reservations');
  const relay = outbox([embeddedOutbox(reservations)]);
  await changes.createIndex({ productId: 1, op: 1 }, { unique: true });
  /** Each product's head as this process last wrote or read it: where its next change is tried, with no read first. */
  const heads = new Map<string, StockHead>();

  /** The head caught up from what this process knows: from the snapshot too after a lost version, which may mean many. */
  async function freshHead(productId: string, { snapshot }: { snapshot: boolean }): Promise<StockHead> {
    const known = heads.get(productId);
    const head = known && !snapshot ? await catchUp(changes, known) : await readHead(changes, snapshots, productId, known);
    heads.set(productId, head);
    return head;
  }

  const exists = async (productId: string, op: string): Promise<boolean> => (await changes.findOne({ productId, op }, { projection: { _id: 1 } })) !== null;

  async function writeSnapshot({ productId, version, available, reserved, sold }: StockHead): Promise<void> {
    try {
      await snapshots.updateOne({ _id: productId }, { $set: { version, available, reserved, sold } }, { upsert: true });
    } catch (err) {
      if (!isDuplicateKeyError(err)) throw err; // the first two writes raced to create it: either is a fine hint
    }
  }

  /**
   * Appends change `op` at the head's version + 1 with the totals `apply` makes of the head. 'exists': `op` was
   * appended before (at any version); 'refused': `apply` said no to the current head (a cached head is re-read first,
   * since only a successful insert proves a head current).
   */
  async function append(productId: string, op: string, kind: StockChangeKind, quantity: number, apply: (head: StockTotals) => StockTotals | null): Promise<Appended> {
    const cached = heads.get(productId);
    let head = cached ?? (await freshHead(productId, { snapshot: true }));
    let fresh = cached === undefined;
    for (let attempt = 0; attempt < APPEND_ATTEMPTS; attempt++) {
      const totals = head.version === 0 ? null : apply(head); // version 0: no stock record
      if (!totals) {
        if (fresh) return 'refused';
        head = await freshHead(productId, { snapshot: false });
        fresh = true;
        continue;
      }
      const version = head.version + 1;
      try {
        await changes.insertOne({ _id: changeId(productId, version), productId, version, op, kind, quantity, ...totals, at: new Date(), ...writer });
      } catch (err) {
        if (!isDuplicateKeyError(err)) throw err;
        if (await exists(productId, op)) return 'exists';
        // Another writer took this version: wait a little (jittered, so two instances do not collide in step), catch up.
        await sleep(backoffDelay(attempt, APPEND_BACKOFF));
        head = await freshHead(productId, { snapshot: true });
        fresh = true;
        continue;
      }
      head = { productId, version, ...totals };
      heads.set(productId, head);
      await writeSnapshot(head);
      return 'applied';
    }
    throw new Error(`stock of ${productId}: ${op} lost the next version to other writers ${APPEND_ATTEMPTS} times in a row; retry later`);
  }

  /** One line of an order: 'taken' now, 'held' by an earlier delivery, or 'short' (not enough, or ended already). */
  async function takeLine(orderId: string, { productId, quantity }: Line): Promise<'taken' | 'held' | 'short'> {
    const op = takeOp(orderId);
    const appended = await append(productId, op, 'take', quantity, (head) => nextStock(head, 'take', quantity));
    if (appended === 'applied') return 'taken';
    if (appended === 'refused' && !(await exists(productId, op))) return 'short';
    // Taken before: still held unless given back or committed since, and a take is once per order and product.
    return (await exists(productId, endOp(orderId))) ? 'short' : 'held';
  }

  /** Ends the order's hold on a product, giving its units back or committing them; a no-op when it holds none. */
  async function endLine(orderId: string, productId: string, kind: 'give-back' | 'commit'): Promise<void> {
    const take = await changes.findOne({ productId, op: takeOp(orderId) }, { projection: { quantity: 1 } });
    if (!take) return;
    const op = endOp(orderId);
    const appended = await append(productId, op, kind, take.quantity, (head) => nextStock(head, kind, take.quantity));
    // Fewer units reserved than this order took: only possible once its end is written (by another delivery).
    if (appended === 'refused' && !(await exists(productId, op))) throw new Error(`stock of ${productId}: the ${take.quantity} units ${orderId} took are not reserved`);
  }

  /**
   * Stock documents from before the ledger list the orders holding units in `holds`. A RESERVED order's hold becomes
   * its take in the ledger (seeded with available + reserved); any other hold belonged to a delivery that had not
   * finished, and its redelivery takes again. Idempotent, so a start interrupted half way is finished by the next.
   */
  async function moveLegacyHolds(): Promise<void> {
    for (const { _id: productId, holds = [] } of await snapshots.find({ holds: { $exists: true } }).toArray()) {
      for (const orderId of holds) {
        const reservation = await reservations.findOne({ _id: orderId });
        const line = reservation?.status === 'RESERVED' ? reservation.lines.find((held) => held.productId === productId) : undefined;
        if (line) await perProduct.run(productId, () => takeLine(orderId, line));
      }
      await snapshots.updateOne({ _id: productId }, { $unset: { holds: '' } });
    }
  }

  return {
    relay,
    /**
     * Seeds the products with no ledger yet (a `seed` change at version 1, insert-only: concurrent starts of two
     * instances write it once); returns how many this call seeded.
     */
    async seed(seed: readonly SeedProduct[]): Promise<number> {
      const seeded = new Set((await changes.find({ op: SEED_OP }, { projection: { productId: 1 } }).toArray()).map((doc) => doc.productId));
      const missing = seed.filter(({ id }) => !seeded.has(id));
      let inserted = 0;
      if (missing.length > 0) {
        const before = new Map((await snapshots.find({}).toArray()).map((doc) => [doc._id, doc]));
        for (const { id: productId, initialStock } of missing) {
          // A stock document from before the ledger holds the product's units (its held ones are moved below).
          const legacy = before.get(productId);
          const initial = legacy && legacy.version === undefined ? legacy.available + legacy.reserved : initialStock;
          const head: StockHead = { productId, version: 1, ...seedStock(initial) };
          try {
            await changes.insertOne({
              _id: changeId(productId, 1),
              productId,
              version: 1,
              op: SEED_OP,
              kind: 'seed',
              quantity: initial,
              ...seedStock(initial),
              at: new Date(),
              ...writer,
            });
          } catch (err) {
            if (!isDuplicateKeyError(err)) throw err;
            continue; // another instance seeded it
          }
          inserted += 1;
          await writeSnapshot(head);
        }
      }
      await moveLegacyHolds();
      return inserted;
    },
    /** The product's latest totals (the snapshot, caught up with the ledger); null when it has no stock record. */
    async get(productId: string): Promise<Stock | null> {
      const head = await readHead(changes, snapshots, productId, heads.get(productId));
      return head.version === 0 ? null : { productId, available: head.available, reserved: head.reserved };
    },
    async reservation(orderId: string): Promise<Reservation | null> {
      const doc = await reservations.findOne({ _id: orderId });
      return doc ? toReservation(doc) : null;
    },

    /**
     * Takes every line for `orderId` (lines it holds already, from an earlier delivery, count as taken), up to the
     * first short one, which is returned. What was taken stays held either way: the caller records the order's
     * decision first and gives the units back unless it is RESERVED. Giving them back before the decision would race
     * a second delivery of the same order (in another instance) that counts them as held and decides RESERVED.
     */
    take: (orderId: string, lines: readonly Line[]): Promise<{ taken: true } | { taken: false; short: Line }> =>
      perProduct.runAll(
        lines.map((line) => line.productId),
        async () => {
          for (const line of lines) {
            if ((await takeLine(orderId, line)) === 'short') return { taken: false as const, short: line };
          }
          return { taken: true as const };
        },
      ),

    /** Gives back the units of `lines` that this order holds (a no-op for the others). */
    giveBack: (orderId: string, lines: readonly Line[]): Promise<void> =>
      perProduct.runAll(
        lines.map((line) => line.productId),
        async () => {
          for (const line of lines) await endLine(orderId, line.productId, 'give-back');
        },
      ),

    /** Commits the held lines: the units leave `reserved` for good (a no-op for lines not held). */
    commit: (orderId: string, lines: readonly Line[]): Promise<void> =>
      perProduct.runAll(
        lines.map((line) => line.productId),
        async () => {
          for (const line of lines) await endLine(orderId, line.productId, 'commit');
        },
      ),

    /**
     * Records the reservation's first state with its events in one insert (the unique `_id` makes it the decision) and
     * publishes them; returns the reservation that was there first when there already is one (null: this one counts).
     */
    async decide(orderId: string, status: ReservationStatus, lines: Line[], events: EventEnvelope[]): Promise<Reservation | null> {
      try {
        await reservations.insertOne({ _id: orderId, status, lines, outbox: events, ...(events.length > 0 ? { outboxPending: true as const } : {}), updatedAt: new Date() });
      } catch (err) {
        if (!isDuplicateKeyError(err)) throw err;
        const existing = await reservations.findOne({ _id: orderId });
        if (!existing) throw new Error(`reservation ${orderId} vanished`);
        return toReservation(existing);
      }
      if (events.length > 0) await relay.publishStored(reservations, orderId, events);
      return null;
    },

    /**
     * Moves the reservation from `from` to `to` with the events that causes, in one update; false when it was no
     * longer in `from` (another delivery got there first) and nothing was written.
     */
    transition: (orderId: string, from: ReservationStatus, to: ReservationStatus, events: EventEnvelope[]): Promise<boolean> =>
      relay.write(reservations, { _id: orderId, status: from }, { $set: { status: to, updatedAt: new Date() } }, events),
  };
}
export type StockStore = Awaited<ReturnType<typeof createStockStore>>;
