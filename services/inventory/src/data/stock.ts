import { embeddedOutbox, isDuplicateKeyError, KeyedLock, type Db, type EventEnvelope, type OutboxDocument, type OutboxRelay, type OutboxSource } from '@tracemart/platform';
import type { SeedProduct } from '@tracemart/catalog-seed';
import type { Line, ReservationStatus } from '../domain/reservation';

interface StockDocument {
  _id: string;
  available: number;
  reserved: number;
  /** Orders whose units of this product are held (reserved, not yet committed or given back). */
  holds?: string[];
}

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
 * Stock never goes below zero and no unit is taken twice for one order because each line is ONE single-document
 * update: `{ _id, available >= quantity, holds != orderId }` -> take the units and add the order to `holds`.
 * Giving back and committing are single-document updates too, guarded by `holds == orderId`, so a redelivered
 * message repeats none of them. On MongoDB that update is atomic by itself; FerretDB v1 (on PostgreSQL too) does
 * not apply a conditional update atomically across connections (the race test in reserve-stock.component.test.ts
 * oversold without the lock below), so stock changes are also serialised per product within the process: one
 * inventory instance is the local default; with real MongoDB the conditional update alone is enough.
 * One command per line, not a bulk write: FerretDB v1 on PostgreSQL holds a pool connection for every statement of
 * a command until it ends, and concurrent many-statement commands can exhaust its pool and wait forever.
 * A reservation's events travel in its embedded outbox, written with the reservation and published by `relay`.
 */
export async function createStockStore(db: Db, outbox: (sources: OutboxSource[]) => OutboxRelay) {
  const perProduct = new KeyedLock();
  const stock = db.collection<StockDocument>('stock');
  const reservations = db.collection<ReservationDocument>('reservations');
  const relay = outbox([embeddedOutbox(reservations)]);

  /** Which of `lines` this order holds now (an equality on the array: FerretDB passes it to PostgreSQL). */
  async function heldBy(orderId: string, lines: readonly Line[]): Promise<Line[]> {
    const holding = new Set((await stock.find({ holds: orderId }, { projection: { _id: 1 } }).toArray()).map((doc) => doc._id));
    return lines.filter((line) => holding.has(line.productId));
  }

  async function giveBackHeld(orderId: string, lines: readonly Line[]): Promise<void> {
    for (const line of lines) {
      await stock.updateOne({ _id: line.productId, holds: orderId }, { $inc: { available: line.quantity, reserved: -line.quantity }, $pull: { holds: orderId } });
    }
  }

  return {
    relay,
    async seed(seed: readonly SeedProduct[]): Promise<number> {
      // Only the missing ones: FerretDB v1.24 on PostgreSQL holds a connection for every statement of an update
      // command that matches a document until the command ends, and past its pool (50) waits forever.
      const existing = new Set((await stock.find({}, { projection: { _id: 1 } }).toArray()).map((doc) => doc._id));
      const missing = seed.filter(({ id }) => !existing.has(id));
      if (missing.length === 0) return 0;
      const result = await stock.bulkWrite(
        missing.map(({ id, initialStock }) => ({
          updateOne: { filter: { _id: id }, update: { $setOnInsert: { available: initialStock, reserved: 0 } }, upsert: true },
        })),
        { ordered: false },
      );
      return result.upsertedCount;
    },
    async get(productId: string): Promise<Stock | null> {
      const doc = await stock.findOne({ _id: productId }, { projection: { holds: 0 } });
      return doc ? { productId: doc._id, available: doc.available, reserved: doc.reserved } : null;
    },
    async reservation(orderId: string): Promise<Reservation | null> {
      const doc = await reservations.findOne({ _id: orderId });
      return doc ? toReservation(doc) : null;
    },

    /**
     * Takes every line for `orderId` (lines already held by it count as taken). All or nothing: when one line is
     * short, what was taken is given back and that line is returned.
     */
    take: (orderId: string, lines: readonly Line[]): Promise<{ taken: true } | { taken: false; short: Line }> =>
      perProduct.runAll(
        lines.map((line) => line.productId),
        async () => {
          let taken = 0;
          for (const line of lines) {
            const result = await stock.updateOne(
              { _id: line.productId, available: { $gte: line.quantity }, holds: { $ne: orderId } },
              { $inc: { available: -line.quantity, reserved: line.quantity }, $push: { holds: orderId } },
            );
            if (result.modifiedCount === 0) break;
            taken += 1;
          }
          if (taken === lines.length) return { taken: true as const };
          // A line was short, or already held by this order (a redelivery): look (a rare path).
          const held = await heldBy(orderId, lines);
          const short = lines.find((line) => !held.includes(line));
          if (!short) return { taken: true as const };
          await giveBackHeld(orderId, held);
          return { taken: false as const, short };
        },
      ),

    /** Gives back the units of `lines` that this order holds (a no-op for the others). */
    giveBack: (orderId: string, lines: readonly Line[]): Promise<void> =>
      perProduct.runAll(
        lines.map((line) => line.productId),
        () => giveBackHeld(orderId, lines),
      ),

    /** Commits the held lines: the units leave `reserved` for good (a no-op for lines not held). */
    commit: (orderId: string, lines: readonly Line[]): Promise<void> =>
      perProduct.runAll(
        lines.map((line) => line.productId),
        async () => {
          for (const line of lines) await stock.updateOne({ _id: line.productId, holds: orderId }, { $inc: { reserved: -line.quantity }, $pull: { holds: orderId } });
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
