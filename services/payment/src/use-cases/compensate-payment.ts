import { newEnvelope } from '@tracemart/platform';
import type { TypedEvent } from '@tracemart/contracts';
import { replayLedger } from '../domain/ledger';
import { compensationFor } from '../domain/payment';
import type { PaymentDeps } from '../dependencies';
import { paymentOutcomes } from './metrics';

/** orders.cancelled: refunds what a cancelled order was charged (once), or closes a payment still waiting for stock. */
export function compensatePayment(deps: PaymentDeps, event: TypedEvent<'orders.cancelled'>): Promise<void> {
  return deps.perOrder.run(event.data.orderId, () => compensateOnce(deps, event));
}

async function compensateOnce({ payments, ledger, logger }: PaymentDeps, event: TypedEvent<'orders.cancelled'>): Promise<void> {
  const { orderId } = event.data;
  const payment = await payments.get(orderId);
  const entries = payment?.status === 'CHARGED' ? await ledger.entries(orderId) : [];
  const decision = compensationFor(payment, replayLedger(entries));
  if (decision.kind === 'close') await payments.transition(orderId, 'AWAITING_STOCK', 'CANCELLED', []);
  if (decision.kind === 'close-unopened') {
    await payments.closeUnopened(orderId, event.data.userId, event.data.reason);
    logger.info({ orderId, reason: event.data.reason }, 'payment closed before it was opened (cancellation came first)');
  }
  if (decision.kind !== 'refund' || !payment) return;
  await ledger.append(orderId, entries.length + 1, 'refunded', decision.amountCents);
  const refunded = newEnvelope(
    'payments.refunded',
    { orderId, paymentId: payment.paymentId, amountCents: decision.amountCents },
    { source: 'payment', correlationId: event.correlationId },
  );
  if (await payments.transition(orderId, 'CHARGED', 'REFUNDED', [refunded])) {
    paymentOutcomes.add(1, { outcome: 'refunded' });
    logger.info({ orderId, amountCents: decision.amountCents, reason: event.data.reason }, 'payment refunded (compensation)');
  }
}
