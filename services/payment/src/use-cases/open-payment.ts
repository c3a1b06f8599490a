import { randomUUID } from 'node:crypto';
import type { TypedEvent } from '@tracemart/contracts';
import type { PaymentDeps } from '../dependencies';

/** orders.placed: records what to charge once stock is reserved (an upsert: a redelivery changes nothing). */
export async function openPayment({ payments }: PaymentDeps, event: TypedEvent<'orders.placed'>): Promise<void> {
  const { orderId, userId, totalCents, paymentToken } = event.data;
  await payments.open({ orderId, paymentId: randomUUID(), userId, amountCents: totalCents, token: paymentToken });
}
