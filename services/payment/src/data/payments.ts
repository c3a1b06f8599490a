import { randomUUID } from 'node:crypto';
import type { Db, EventEnvelope, OutboxDocument, OutboxRelay, OutboxSource } from '@tracemart/platform';
import { embeddedOutbox, fromDocument } from '@tracemart/platform';
import type { PaymentStatus } from '../domain/payment';

/** One order's payment, as the use cases see it. */
export interface Payment {
  orderId: string;
  paymentId: string;
  userId: string;
  amountCents: number;
  /**
   * The processor's token for the card, sealed as orders.placed brought it (the order id bound in): opened only to
   * charge, never logged, never put on spans, and removed once the payment leaves AWAITING_STOCK.
   */
  sealedToken?: string;
  /** The token in clear, in a document opened before tokens were sealed (issue 12); removed like `sealedToken`. */
  token?: string;
  status: PaymentStatus;
  reason?: string;
}

interface PaymentDocument extends Omit<Payment, 'orderId'>, OutboxDocument {
  _id: string; // the order id: one payment per order
  updatedAt: Date;
}

const toPayment = (doc: PaymentDocument): Payment => fromDocument<Payment, 'orderId'>(doc, 'orderId');

/**
 * The payments collection: one document per order, carrying its status and (embedded outbox) the events a
 * transition causes, written in the same update and published by `relay`.
 */
export async function createPaymentStore(db: Db, outbox: (sources: OutboxSource[]) => OutboxRelay) {
  const payments = db.collection<PaymentDocument>('payments');
  const relay = outbox([embeddedOutbox(payments)]);
  return {
    relay,
    async get(orderId: string): Promise<Payment | null> {
      const doc = await payments.findOne({ _id: orderId });
      return doc ? toPayment(doc) : null;
    },
    /** Records what to charge when stock is reserved; a no-op when already recorded. */
    async open(payment: Omit<Payment, 'status' | 'reason'>): Promise<void> {
      const { orderId, ...fields } = payment;
      await payments.updateOne({ _id: orderId }, { $setOnInsert: { ...fields, status: 'AWAITING_STOCK', outbox: [], updatedAt: new Date() } }, { upsert: true });
    },
    /**
     * Records an order's payment as CANCELLED before orders.placed opened it (an insert-if-absent: `open` is then a
     * no-op, and nothing is ever charged for it).
     */
    async closeUnopened(orderId: string, userId: string, reason: string): Promise<void> {
      await payments.updateOne(
        { _id: orderId },
        { $setOnInsert: { paymentId: randomUUID(), userId, amountCents: 0, status: 'CANCELLED', reason, outbox: [], updatedAt: new Date() } },
        { upsert: true },
      );
    },
    /**
     * Moves a payment from `from` to `to` with the events that causes, in one update; false when it was no longer
     * in `from` (another delivery got there first) and nothing was written. Every transition leaves AWAITING_STOCK or
     * a decided state, after which the card is never charged again: the same update drops the card token.
     */
    transition(orderId: string, from: PaymentStatus, to: PaymentStatus, events: EventEnvelope[], reason?: string): Promise<boolean> {
      const update = { $set: { status: to, ...(reason ? { reason } : {}), updatedAt: new Date() }, $unset: { sealedToken: '' as const, token: '' as const } };
      if (events.length === 0) return payments.updateOne({ _id: orderId, status: from }, update).then((result) => result.modifiedCount === 1);
      return relay.write(payments, { _id: orderId, status: from }, update, events);
    },
  };
}
export type PaymentStore = Awaited<ReturnType<typeof createPaymentStore>>;
