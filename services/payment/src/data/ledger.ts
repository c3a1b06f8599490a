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

/**
 * Append-only ledger with optimistic concurrency: unique (streamId, version). Appending an entry type
 * that the stream already has is a no-op, so a redelivered message never moves money twice.
 */
export async function createLedger(db: Db) {
  const ledger = db.collection<LedgerDocument>('payment_ledger');
  await ledger.createIndex({ streamId: 1, version: 1 }, { unique: true });

  async function load(orderId: string): Promise<LedgerDocument[]> {
    return ledger.find({ streamId: orderId }).sort({ version: 1 }).toArray();
  }

  return {
    load,
    toEntries: (docs: LedgerDocument[]): LedgerEntry[] => docs.map(({ type, amountCents, version, at }) => ({ type, amountCents, version, at })),
    async append(orderId: string, type: LedgerEntryType, amountCents: number): Promise<void> {
      for (let attempt = 0; attempt < 5; attempt += 1) {
        const existing = await load(orderId);
        if (existing.some((entry) => entry.type === type)) return;
        const traceId = currentTraceId();
        try {
          await ledger.insertOne({ _id: randomUUID(), streamId: orderId, version: existing.length + 1, type, amountCents, at: new Date(), ...(traceId ? { traceId } : {}) });
          return;
        } catch (err) {
          if (!isDuplicateKeyError(err)) throw err;
        }
      }
      throw new Error(`ledger ${orderId}: too many concurrent appends`);
    },
  };
}
export type Ledger = Awaited<ReturnType<typeof createLedger>>;
