import type { Collection, Db } from '@tracemart/platform';
import type { StockChangeKind, StockTotals } from '../domain/stock';

/**
 * The stock ledger as stored (see stock.ts for why it is insert-only), and the reads of it that need no store: the
 * store's own head reads, the GET endpoint's, and invariant checkers outside the service
 * (`@tracemart/inventory-service/stock-ledger`). Type-only imports, so a checker loads no service code.
 */

/** One change of one product's stock, with the product's running totals after it. */
export interface StockChangeDocument extends StockTotals {
  _id: string; // changeId(productId, version): each version of a product is written once
  productId: string;
  /** 1 for the seed, then +1 per change, without gaps. */
  version: number;
  /** `seed`, `take:<orderId>` or `end:<orderId>` (a give-back or a commit): unique per product. */
  op: string;
  kind: StockChangeKind;
  quantity: number;
  at: Date;
  /** The instance that appended it. */
  writer?: string;
}

/** A product's latest known totals and their version: a hint that may lag the ledger (readers catch up). */
export interface StockSnapshotDocument extends Omit<StockTotals, 'sold'> {
  _id: string; // the product id
  /** Absent, as `sold`, only on a stock document from before the ledger. */
  version?: number;
  sold?: number;
  /** Before the ledger: the orders holding units of this product, until they are moved into it (see seed). */
  holds?: string[];
}

/** A product's totals at its latest version (0 and all zeros: no stock record). */
export interface StockHead extends StockTotals {
  productId: string;
  version: number;
}

/** One product's stock from the ledger, for invariant checks: initial always equals available + reserved + sold. */
export interface StockLedgerEntry extends StockHead {
  /** Units the product was seeded with (its version-1 change). */
  initial: number;
}

export const stockChangesCollection = (db: Db): Collection<StockChangeDocument> => db.collection<StockChangeDocument>('stock_changes');
export const stockSnapshots = (db: Db): Collection<StockSnapshotDocument> => db.collection<StockSnapshotDocument>('stock');

export const changeId = (productId: string, version: number): string => `${productId}#${version}`;
export const takeOp = (orderId: string): string => `take:${orderId}`;
export const endOp = (orderId: string): string => `end:${orderId}`;
export const SEED_OP = 'seed';

const emptyHead = (productId: string): StockHead => ({ productId, version: 0, available: 0, reserved: 0, sold: 0 });
const headOf = ({ productId, version, available, reserved, sold }: StockChangeDocument): StockHead => ({ productId, version, available, reserved, sold });

/**
 * The product's latest totals: from `from` forward one version at a time by `_id` until a version is missing.
 * Versions have no gaps (each is written only after the one before it was read), so the first missing one is the
 * head. Each probe is an index lookup on both MongoDB and FerretDB.
 */
export async function catchUp(changes: Collection<StockChangeDocument>, from: StockHead): Promise<StockHead> {
  let head = from;
  for (;;) {
    const next = await changes.findOne({ _id: changeId(head.productId, head.version + 1) });
    if (!next) return head;
    head = headOf(next);
  }
}

/** The product's latest totals, caught up from the snapshot or `known`, whichever is newer. */
export async function readHead(changes: Collection<StockChangeDocument>, snapshots: Collection<StockSnapshotDocument>, productId: string, known?: StockHead): Promise<StockHead> {
  const snapshot = await snapshots.findOne({ _id: productId });
  let head = known ?? emptyHead(productId);
  if (snapshot?.version !== undefined && snapshot.version > head.version) {
    const { available, reserved, sold = 0, version } = snapshot;
    head = { productId, version, available, reserved, sold };
  }
  return catchUp(changes, head);
}

/**
 * Every seeded product's stock at its latest version, with the units it was seeded with. A checker asserts
 * initial = available + reserved + sold and that no total is negative.
 */
export async function stockLedger(db: Db): Promise<StockLedgerEntry[]> {
  const changes = stockChangesCollection(db);
  const snapshots = stockSnapshots(db);
  const seeds = await changes.find({ op: SEED_OP }).toArray();
  const entries: StockLedgerEntry[] = [];
  for (const seed of seeds) entries.push({ ...(await readHead(changes, snapshots, seed.productId, headOf(seed))), initial: seed.quantity });
  return entries.sort((a, b) => a.productId.localeCompare(b.productId));
}

/** Every change of one product, oldest first: for checks that must hold at every version, not only the latest. */
export async function stockChanges(db: Db, productId: string): Promise<StockChangeDocument[]> {
  return stockChangesCollection(db).find({ productId }).sort({ version: 1 }).toArray();
}
