import { AppError } from '@tracemart/platform';
import { replayLedger } from '../domain/ledger';
import type { PaymentDeps } from '../dependencies';

/** The order's money movements up to `asOf` (all when absent) and the balance they add up to; only its owner sees it. */
export async function getLedger({ payments, ledger }: PaymentDeps, query: { userId: string; orderId: string; asOf?: Date }) {
  const { orderId, asOf } = query;
  const payment = /^[\w-]{1,64}$/.test(orderId) ? await payments.get(orderId) : null;
  if (!payment || payment.userId !== query.userId) throw new AppError('not_found', 'PAYMENT.NOT_FOUND', 'no such payment');
  const entries = await ledger.entries(orderId);
  const state = replayLedger(entries, asOf);
  return {
    orderId,
    paymentId: payment.paymentId,
    asOf: asOf?.toISOString() ?? null,
    status: state.status,
    balanceCents: state.balanceCents,
    entries: entries
      .filter((entry) => !asOf || entry.at.getTime() <= asOf.getTime())
      .map((entry) => ({ type: entry.type, amountCents: entry.amountCents, version: entry.version, at: entry.at.toISOString(), traceId: entry.traceId ?? null })),
  };
}
