import { getMeter } from '@tracemart/platform';

/** Reservation outcomes: reserved, rejected (out of stock), released (compensation), committed. */
export const reservationOutcomes = getMeter().createCounter('tracemart.inventory.reservations', { unit: '{reservation}', description: 'Reservation outcomes' });
