import type { Db, OutboxDocument } from '@tracemart/platform';
import type { PaymentStatus } from '../domain/charge';

export interface PaymentDocument extends OutboxDocument {
  _id: string; // the order id: one payment per order
  paymentId: string;
  userId: string;
  amountCents: number;
  /** The processor's token for the card; never logged, never put on spans. */
  token: string;
  status: PaymentStatus;
  reason?: string;
  updatedAt: Date;
}

export async function createPaymentStore(db: Db) {
  const payments = db.collection<PaymentDocument>('payments');
  return {
    payments,
    get: (orderId: string) => payments.findOne({ _id: orderId }),
    /** Records what to charge when stock is reserved; a no-op when already recorded. */
    async open(doc: Omit<PaymentDocument, 'status' | 'updatedAt' | 'outbox'>): Promise<void> {
      await payments.updateOne({ _id: doc._id }, { $setOnInsert: { ...doc, status: 'AWAITING_STOCK', outbox: [], updatedAt: new Date() } }, { upsert: true });
    },
  };
}
export type PaymentStore = Awaited<ReturnType<typeof createPaymentStore>>;
