import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { getTracer, newEnvelope, recordSpanError, type HandlerResult } from '@tracemart/platform';
import { PaymentTokenUnreadable, type TypedEvent } from '@tracemart/contracts';
import { UNREADABLE_TOKEN, type ChargeOutcome } from '../domain/charge';
import { chargeStep } from '../domain/payment';
import { isTransient } from '../clients/card-processor-client';
import type { Payment } from '../data/payments';
import type { PaymentDeps } from '../dependencies';
import { chargedCents, paymentOutcomes } from './metrics';

const tracer = getTracer('tracemart.payment');

/** inventory.reserved: charges the card once per order and records the outcome (ledger, status, event). */
export function chargePayment(deps: PaymentDeps, event: TypedEvent<'inventory.reserved'>): Promise<HandlerResult> {
  return deps.perOrder.run(event.data.orderId, () => chargeOnce(deps, event));
}

async function chargeOnce(deps: PaymentDeps, event: TypedEvent<'inventory.reserved'>): Promise<HandlerResult> {
  const { payments, ledger, processor, logger } = deps;
  const { orderId } = event.data;
  const payment = await payments.get(orderId);
  const step = chargeStep(payment);
  // orders.placed and inventory.reserved arrive on different consumers; wait for the first.
  if (step === 'wait') return { nakDelayMs: 250 };
  if (step === 'done' || !payment) return 'ack';
  const token = cardToken(deps, payment);
  let result: ChargeOutcome;
  try {
    result = token === undefined ? UNREADABLE_TOKEN : await chargeCard(deps, payment, token);
  } catch (err) {
    if (!isTransient(err)) throw err;
    // The saga waits rather than fails: the message comes back once the breaker may have half-opened.
    const nakDelayMs = processor.state() === 'closed' ? 1_000 : processor.resetTimeoutMs;
    logger.warn({ orderId, breaker: processor.state(), nakDelayMs, err: String(err) }, 'card processor unavailable, payment postponed');
    return { nakDelayMs };
  }
  const meta = { source: 'payment', correlationId: event.correlationId };
  const outcomeEvent =
    result.outcome === 'charged'
      ? newEnvelope('payments.charged', { orderId, paymentId: payment.paymentId, amountCents: payment.amountCents }, meta)
      : newEnvelope('payments.declined', { orderId, paymentId: payment.paymentId, reason: result.reason }, meta);
  // The ledger is the record of money; the payment carries status and the outbox. The charge decision is an order's
  // first ledger entry.
  await ledger.append(orderId, 1, result.outcome, result.outcome === 'charged' ? payment.amountCents : 0);
  const status = result.outcome === 'charged' ? 'CHARGED' : 'DECLINED';
  if (await payments.transition(orderId, 'AWAITING_STOCK', status, [outcomeEvent], result.outcome === 'declined' ? result.reason : undefined)) {
    paymentOutcomes.add(1, { outcome: result.outcome });
    if (result.outcome === 'charged') chargedCents.add(payment.amountCents);
    logger.info({ orderId, outcome: result.outcome }, 'payment processed');
  }
  return 'ack';
}

/** The payment's card token in clear, opened for this charge only; undefined when it does not open (or is missing). */
function cardToken({ paymentTokens, logger }: PaymentDeps, payment: Payment): string | undefined {
  if (payment.sealedToken === undefined) return payment.token;
  try {
    return paymentTokens.open(payment.sealedToken, payment.orderId);
  } catch (err) {
    if (!(err instanceof PaymentTokenUnreadable)) throw err;
    // Every order's token failing here means PAYMENT_TOKEN_KEY differs between the order and payment services.
    logger.error({ orderId: payment.orderId }, 'sealed payment token does not open: declining (is PAYMENT_TOKEN_KEY the same in order and payment?)');
    return undefined;
  }
}

/**
 * A CLIENT span for the call to the (simulated) card processor. A decline is the caller's business outcome but an
 * error of this call, so the span is ERROR with the decline as error.type.
 */
async function chargeCard({ processor }: PaymentDeps, payment: Payment, token: string): Promise<ChargeOutcome> {
  const span = tracer.startSpan('charge card', { kind: SpanKind.CLIENT, attributes: { 'tracemart.payment.amount_cents': payment.amountCents } });
  try {
    const result = await context.with(trace.setSpan(context.active(), span), () => processor.charge({ idempotencyKey: payment.orderId, amountCents: payment.amountCents, token }));
    span.setAttribute('tracemart.payment.outcome', result.outcome);
    if (result.outcome === 'declined') {
      span.setStatus({ code: SpanStatusCode.ERROR, message: result.reason });
      span.setAttribute('error.type', 'card_declined');
    }
    return result;
  } catch (err) {
    recordSpanError(span, err);
    throw err;
  } finally {
    span.end();
  }
}
