import { getMeter } from '@tracemart/platform';

/** Payments by outcome (charged|declined|refunded). */
export const paymentOutcomes = getMeter().createCounter('tracemart.payments', { unit: '{payment}', description: 'Payment outcomes' });
/** Money successfully charged, in cents. */
export const chargedCents = getMeter().createCounter('tracemart.payments.charged.amount', { unit: '{cent}', description: 'Amount charged' });
