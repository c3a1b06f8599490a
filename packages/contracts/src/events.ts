import { z } from 'zod';
import type { EventEnvelope } from './envelope';
import { MAX_PAYMENT_TOKEN_LENGTH, sealedPaymentTokenSchema } from './payment-token';

export * from './payment-token';

const id = z.string().min(1).max(128);
const cents = z.number().int().nonnegative();

export const orderLineSchema = z.object({
  productId: id,
  name: z.string().max(200),
  quantity: z.number().int().positive(),
  unitPriceCents: cents,
});
export type OrderLine = z.infer<typeof orderLineSchema>;

export const cancelReasons = ['OUT_OF_STOCK', 'PAYMENT_DECLINED', 'SAGA_TIMEOUT'] as const;
export type CancelReason = (typeof cancelReasons)[number];

const orderPlacedBase = z.object({
  orderId: id,
  userId: id,
  items: z.array(orderLineSchema).min(1),
  totalCents: cents,
});

/** Every event's `data`, by subject (= event type). Version 1 of each. */
export const eventSchemas = {
  'orders.placed': z.union([
    orderPlacedBase.extend({
      paymentTokenSealed: sealedPaymentTokenSchema.describe(
        'The card token sealed for the payment service (AES-256-GCM, bound to the order id; see payment-token.ts): no consumer of the stream sees it in clear.',
      ),
    }),
    // Before issue 12 the token travelled in clear. Events stored that way (the order event store, the ORDERS stream of
    // an older data folder) are still read; the order service no longer writes them.
    orderPlacedBase.extend({
      paymentToken: z.string().min(1).max(MAX_PAYMENT_TOKEN_LENGTH).describe('Deprecated: the card token in clear, in events stored before tokens were sealed.'),
    }),
  ]),
  'orders.confirmed': z.object({ orderId: id, userId: id, totalCents: cents }),
  'orders.cancelled': z.object({ orderId: id, userId: id, reason: z.enum(cancelReasons) }),
  'inventory.reserved': z.object({ orderId: id, items: z.array(z.object({ productId: id, quantity: z.number().int().positive() })) }),
  'inventory.rejected': z.object({ orderId: id, reason: z.literal('OUT_OF_STOCK'), productId: id }),
  'inventory.released': z.object({ orderId: id }),
  'inventory.committed': z.object({ orderId: id }),
  'payments.charged': z.object({ orderId: id, paymentId: id, amountCents: cents }),
  'payments.declined': z.object({ orderId: id, paymentId: id, reason: z.string().max(200) }),
  'payments.refunded': z.object({ orderId: id, paymentId: id, amountCents: cents }),
  'notifications.sent': z.object({ notificationId: id, orderId: id, userId: id, kind: z.string().max(64) }),
} as const;

export type EventType = keyof typeof eventSchemas;
export type EventData<T extends EventType> = z.infer<(typeof eventSchemas)[T]>;
export type TypedEvent<T extends EventType> = EventEnvelope<EventData<T>> & { type: T };

export class ContractViolation extends Error {
  override name = 'ContractViolation';
}

function isEventType(type: string): type is EventType {
  return Object.hasOwn(eventSchemas, type);
}

/** Validates an envelope's data against its contract; used on publish and on consume. */
export function validateEvent(event: EventEnvelope): EventEnvelope {
  if (!isEventType(event.type)) throw new ContractViolation(`unknown event type ${event.type}`);
  const result = eventSchemas[event.type].safeParse(event.data);
  if (!result.success) throw new ContractViolation(`${event.type} violates its contract: ${result.error.message}`);
  return { ...event, data: result.data };
}

/** Narrows an envelope to a known event type, for handlers that consume several. */
export function isEvent<T extends EventType>(event: EventEnvelope, type: T): event is TypedEvent<T> {
  return event.type === type;
}
