import { randomUUID } from 'node:crypto';
import type { TypedEvent } from '@tracemart/contracts';
import type { PaymentDeps } from '../dependencies';

/**
 * orders.placed: records what to charge once stock is reserved (an upsert: a redelivery changes nothing). The card
 * token is stored sealed, as it came; an event stored before tokens were sealed brings it in clear, and it is sealed
 * here, so the payments collection never holds a token in clear.
 */
export async function openPayment({ payments, paymentTokens }: PaymentDeps, event: TypedEvent<'orders.placed'>): Promise<void> {
  const { data } = event;
  const { orderId, userId, totalCents } = data;
  const sealedToken = 'paymentTokenSealed' in data ? data.paymentTokenSealed : paymentTokens.seal(data.paymentToken, orderId);
  await payments.open({ orderId, paymentId: randomUUID(), userId, amountCents: totalCents, sealedToken });
}
