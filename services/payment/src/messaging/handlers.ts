import { randomUUID } from 'node:crypto';
import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { getMeter, getTracer, KeyedLock, newEnvelope, recordSpanError, type EventEnvelope, type HandlerResult, type Logger, type OutboxRelay } from '@tracemart/platform';
import { isEvent, type EventData, type EventType } from '@tracemart/contracts';
import type { Ledger } from '../data/ledger';
import type { PaymentStore } from '../data/payments';
import { refundDue, replayLedger } from '../domain/ledger';
import { isTransient, type ProcessorClient } from '../processor-client';

const tracer = getTracer('tracemart.payment');

/** Charges by outcome (charged|declined|refunded). */
const charges = getMeter().createCounter('tracemart.payments', { unit: '{payment}', description: 'Payment outcomes' });
/** Money successfully charged, in cents. */
const chargedCents = getMeter().createCounter('tracemart.payments.charged.amount', { unit: '{cent}', description: 'Amount charged' });

export function paymentHandlers(deps: { store: PaymentStore; ledger: Ledger; relay: OutboxRelay; processor: ProcessorClient; logger: Logger }) {
  const { store, ledger, relay, processor, logger } = deps;
  const event = <T extends EventType>(source: EventEnvelope, type: T, data: EventData<T>) => newEnvelope(type, data, { source: 'payment', correlationId: source.correlationId });

  // One charge decision at a time per order: FerretDB v1 does not apply the conditional status update
  // atomically across connections, so concurrent copies of inventory.reserved are serialised here.
  const perOrder = new KeyedLock();

  const charge = (msg: EventEnvelope<EventData<'inventory.reserved'>>): Promise<HandlerResult> => perOrder.run(msg.data.orderId, () => chargeOnce(msg));

  async function chargeOnce(msg: EventEnvelope<EventData<'inventory.reserved'>>): Promise<HandlerResult> {
    const payment = await store.get(msg.data.orderId);
    // orders.placed and inventory.reserved arrive on different consumers; wait for the first.
    if (!payment) return { nakDelayMs: 250 };
    if (payment.status !== 'AWAITING_STOCK') return 'ack';
    const { orderId } = msg.data;
    let result: Awaited<ReturnType<ProcessorClient['charge']>>;
    // A CLIENT span for the call to the (simulated) card processor. A decline is the caller's business
    // outcome but an error of this call, so the span is ERROR with the decline as error.type.
    const span = tracer.startSpan('charge card', { kind: SpanKind.CLIENT, attributes: { 'tracemart.payment.amount_cents': payment.amountCents } });
    try {
      result = await context.with(trace.setSpan(context.active(), span), () =>
        processor.charge({ idempotencyKey: payment._id, amountCents: payment.amountCents, token: payment.token }),
      );
      span.setAttribute('tracemart.payment.outcome', result.outcome);
      if (result.outcome === 'declined') {
        span.setStatus({ code: SpanStatusCode.ERROR, message: result.reason });
        span.setAttribute('error.type', 'card_declined');
      }
    } catch (err) {
      recordSpanError(span, err);
      if (!isTransient(err)) throw err;
      // The saga waits rather than fails: the message comes back once the breaker may have half-opened.
      const nakDelayMs = processor.state() === 'closed' ? 1_000 : processor.resetTimeoutMs;
      logger.warn({ orderId, breaker: processor.state(), nakDelayMs, err: String(err) }, 'card processor unavailable, payment postponed');
      return { nakDelayMs };
    } finally {
      span.end();
    }
    const outcomeEvent =
      result.outcome === 'charged'
        ? event(msg, 'payments.charged', { orderId, paymentId: payment.paymentId, amountCents: payment.amountCents })
        : event(msg, 'payments.declined', { orderId, paymentId: payment.paymentId, reason: result.reason });
    // The ledger is the record of money; the payment document carries status and the outbox. The charge decision is
    // an order's first ledger entry.
    await ledger.append(orderId, 1, result.outcome, result.outcome === 'charged' ? payment.amountCents : 0);
    const status = result.outcome === 'charged' ? 'CHARGED' : 'DECLINED';
    const reason = result.outcome === 'declined' ? { reason: result.reason } : {};
    const written = await relay.write(store.payments, { _id: orderId, status: 'AWAITING_STOCK' }, { $set: { status, ...reason, updatedAt: new Date() } }, [outcomeEvent]);
    if (written) {
      charges.add(1, { outcome: result.outcome });
      if (result.outcome === 'charged') chargedCents.add(payment.amountCents);
      logger.info({ orderId, outcome: result.outcome }, 'payment processed');
    }
    return 'ack';
  }

  return async (msg: EventEnvelope): Promise<HandlerResult> => {
    if (isEvent(msg, 'orders.placed')) {
      const { orderId, userId, totalCents, paymentToken } = msg.data;
      await store.open({ _id: orderId, paymentId: randomUUID(), userId, amountCents: totalCents, token: paymentToken });
      return 'ack';
    }
    if (isEvent(msg, 'inventory.reserved')) return charge(msg);
    if (isEvent(msg, 'inventory.rejected')) {
      await store.payments.updateOne({ _id: msg.data.orderId, status: 'AWAITING_STOCK' }, { $set: { status: 'CANCELLED', updatedAt: new Date() } });
    }
    if (isEvent(msg, 'orders.cancelled')) await perOrder.run(msg.data.orderId, () => compensate(msg));
    return 'ack';
  };

  /**
   * Compensation for a cancelled order (e.g. the saga timed out after the card was charged): refund
   * what the ledger says was taken; an order that never reached payment is simply closed.
   */
  async function compensate(msg: EventEnvelope<EventData<'orders.cancelled'>>): Promise<void> {
    const { orderId } = msg.data;
    const payment = await store.get(orderId);
    if (!payment) return;
    if (payment.status === 'AWAITING_STOCK') {
      await store.payments.updateOne({ _id: orderId, status: 'AWAITING_STOCK' }, { $set: { status: 'CANCELLED', updatedAt: new Date() } });
      return;
    }
    const entries = ledger.toEntries(await ledger.load(orderId));
    const owed = refundDue(replayLedger(entries));
    if (payment.status !== 'CHARGED' || owed === 0) return;
    await ledger.append(orderId, entries.length + 1, 'refunded', owed);
    const refunded = event(msg, 'payments.refunded', { orderId, paymentId: payment.paymentId, amountCents: owed });
    if (await relay.write(store.payments, { _id: orderId, status: 'CHARGED' }, { $set: { status: 'REFUNDED', updatedAt: new Date() } }, [refunded])) {
      charges.add(1, { outcome: 'refunded' });
      logger.info({ orderId, amountCents: owed, reason: msg.data.reason }, 'payment refunded (compensation)');
    }
  }
}
