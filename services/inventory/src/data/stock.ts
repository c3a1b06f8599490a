import type {
  Collection,
  Db,
  OutboxDocument,
  UpdateFilter,
} from "@tracemart/platform";
import type { SeedProduct } from "@tracemart/catalog-seed";
import type { Line, ReservationStatus } from "../domain/reservation";
import { KeyedLock } from '@tracemart/platform';

export interface StockDocument {
  _id: string;
  available: number;
  reserved: number;
}

export interface ReservationDocument extends OutboxDocument {
  _id: string;
  status: ReservationStatus;
  lines: Line[];
  /**
   * Products whose stock this reservation currently holds. Optional because FerretDB v1 drops an empty
   * array given in $setOnInsert; absent means none.
   */
  held?: string[];
  updatedAt: Date;
}

export type StockStore = Awaited<ReturnType<typeof createStockStore>>;

/**
 * Stock never goes below zero because every decrement is one conditional single-document update
 * (`available >= quantity`), atomic on MongoDB, with no transaction needed.
 * FerretDB v1 (on SQLite and on PostgreSQL alike) does not apply that conditional update atomically across connections
 * (the race test in reserve-stock.component.test.ts oversold 99 of 94 units without the lock below),
 * so stock changes are also serialised per product within the process. One inventory instance is the
 * local default; with real MongoDB the conditional update alone is enough and instances can scale out.
 * Ordering rule for crash safety: a unit is marked held only after it is taken, and un-marked before it
 * is given back, so a crash can leak a unit (under-sell) but never sell it twice.
 */
export async function createStockStore(db: Db) {
  const perProduct = new KeyedLock();
  const stock = db.collection<StockDocument>("stock");
  const reservations = db.collection<ReservationDocument>("reservations");
  return {
    stock,
    reservations,
    async seed(seed: readonly SeedProduct[]): Promise<number> {
      // Only the missing ones: FerretDB v1.24 on PostgreSQL holds a connection for every statement of an update
      // command that matches a document until the command ends, and past its pool (50) waits forever.
      const existing = new Set((await stock.find({}, { projection: { _id: 1 } }).toArray()).map((doc) => doc._id));
      const missing = seed.filter(({ id }) => !existing.has(id));
      if (missing.length === 0) return 0;
      const result = await stock.bulkWrite(
        missing.map(({ id, initialStock }) => ({
          updateOne: {
            filter: { _id: id },
            update: { $setOnInsert: { available: initialStock, reserved: 0 } },
            upsert: true,
          },
        })),
        { ordered: false },
      );
      return result.upsertedCount;
    },
    get: (productId: string) => stock.findOne({ _id: productId }),
    getReservation: (orderId: string) => reservations.findOne({ _id: orderId }),
    /** Creates the reservation in `status` unless one exists; returns the stored one. */
    async open(
      orderId: string,
      lines: Line[],
      status: ReservationStatus,
    ): Promise<ReservationDocument> {
      const doc = await reservations.findOneAndUpdate(
        { _id: orderId },
        {
          $setOnInsert: {
            status,
            lines,
            held: [],
            outbox: [],
            updatedAt: new Date(),
          },
        },
        { upsert: true, returnDocument: "after" },
      );
      if (!doc) throw new Error(`reservation ${orderId} vanished`);
      return doc;
    },
    /** Takes `quantity` units if that many are available; false when they are not. */
    take: (orderId: string, line: Line): Promise<boolean> =>
      perProduct.run(line.productId, async () => {
        const taken = await stock.updateOne(
          { _id: line.productId, available: { $gte: line.quantity } },
          { $inc: { available: -line.quantity, reserved: line.quantity } },
        );
        if (taken.modifiedCount === 0) return false;
        await reservations.updateOne(
          { _id: orderId },
          { $addToSet: { held: line.productId } },
        );
        return true;
      }),
    /** Gives back the units of one held line. */
    giveBack: (orderId: string, line: Line): Promise<void> =>
      perProduct.run(line.productId, async () => {
        const unmarked = await reservations.updateOne(
          { _id: orderId, held: line.productId },
          {
            $pull: { held: line.productId },
          } as unknown as UpdateFilter<ReservationDocument>,
        );
        if (unmarked.modifiedCount === 0) return;
        await stock.updateOne(
          { _id: line.productId },
          { $inc: { available: line.quantity, reserved: -line.quantity } },
        );
      }),
    /** Commits a held line: the units leave `reserved` for good. */
    commit: (line: Line): Promise<void> =>
      perProduct.run(line.productId, async () => {
        await stock.updateOne(
          { _id: line.productId },
          { $inc: { reserved: -line.quantity } },
        );
      }),
  };
}

export type { Collection };
