import { randomUUID } from 'node:crypto';
import { currentTraceId, isDuplicateKeyError, type Db } from '@tracemart/platform';
import type { LedgerEntry, LedgerEntryType } from '../domain/ledger';

interface LedgerDocument {
  _id: string;
  streamId: string; // the order id
  version: number;
  type: LedgerEntryType;
  amountCents: number;
  at: Date;
  traceId?: string;
}

/** One money movement as stored: the domain's entry and the trace that wrote it. */
export interface LedgerRecord extends LedgerEntry {
  traceId?: string;
}

/**
 * Append-only ledger with optimistic concurrency: unique (streamId, version). The caller names the version it
 * appends at (it knows the order's payment state), so an append is one insert; a redelivered message that appends
 * the same entry again meets the unique index and is a no-op, so money never moves twice.
 */
export async function createLedger(db: Db) {
  const ledger = db.collection<LedgerDocument>('payment_ledger');
  await ledger.createIndex({ streamId: 1, version: 1 }, { unique: true });

  async function entries(orderId: string): Promise<LedgerRecord[]> {
    const docs = await ledger.find({ streamId: orderId }).sort({ version: 1 }).toArray();
    return docs.map(({ type, amountCents, version, at, traceId }) => ({ type, amountCents, version, at, ...(traceId ? { traceId } : {}) }));
  }

  return {
    /** An order's movements, oldest first. */
    entries,
    async append(orderId: string, version: number, type: LedgerEntryType, amountCents: number): Promise<void> {
      const traceId = currentTraceId();
      try {
        await ledger.insertOne({ _id: randomUUID(), streamId: orderId, version, type, amountCents, at: new Date(), ...(traceId ? { traceId } : {}) });
      } catch (err) {
        if (!isDuplicateKeyError(err)) throw err;
        // Already appended (a redelivery), or a different entry holds that version: only the first is a no-op.
        const existing = (await entries(orderId)).find((entry) => entry.version === version);
        if (existing?.type !== type) throw new Error(`ledger ${orderId}: version ${version} holds ${existing?.type ?? 'nothing'}, not ${type}`);
      }
    },
  };
}
export type Ledger = Awaited<ReturnType<typeof createLedger>>;
