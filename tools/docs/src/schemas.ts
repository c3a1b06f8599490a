import { z } from 'zod';
import { faultKinds } from '@tracemart/platform';
import { cancelReasons, orderLineSchema } from '@tracemart/contracts';

/**
 * Schemas that exist only to document: the event envelope (a TypeScript interface in the platform), the
 * dead letter, and the JSON the services answer with. Each names the code it mirrors, so a change there
 * is easy to follow here; the route handlers remain the source of truth.
 */

/** Mirrors `EventEnvelope` (platform/messaging/envelope.ts) as published: `trace` travels in headers, not the body. */
export const envelopeSchema = z.object({
  id: z.uuid().describe('Unique event id; also the JetStream Nats-Msg-Id, so a republish inside the duplicate window is dropped.'),
  type: z.string().describe('The event type, equal to the subject.'),
  schemaVersion: z.number().int().min(1).describe('Version of the `data` contract; 1 for every event today.'),
  occurredAt: z.iso.datetime().describe('When the fact happened (ISO 8601, UTC).'),
  source: z.string().describe('The service that recorded the fact.'),
  correlationId: z.string().describe('Correlates every event of one order saga (the order id).'),
  data: z.unknown(),
});

/** Mirrors `DeadLetter` (platform/messaging/dead-letters.ts). */
export const deadLetterSchema = z.object({
  consumer: z.string().describe('Durable consumer that gave up on the message.'),
  stream: z.string(),
  subject: z.string().describe('Original subject.'),
  streamSequence: z.number().int().describe('Sequence of the original message in its stream.'),
  deliveryCount: z.number().int(),
  reason: z.string(),
  at: z.iso.datetime(),
  headers: z.record(z.string(), z.string()).describe('Original NATS headers, trace context included.'),
  payload: z.string().describe('Original message body, as received.'),
});

/** `toErrorResponse` in platform/http/app.ts. */
export const errorBodySchema = z.object({
  error: z.object({
    code: z.string().describe('Stable error code, e.g. ORDER.NOT_FOUND.'),
    message: z.string().describe('Human-readable; never internals.'),
    details: z.unknown().optional().describe('Validation failures are a list of { path, message }.'),
  }),
});

/** services/user/src/domain/account.ts `profileOf`: register and me. */
export const userSchema = z.object({
  id: z.string(),
  email: z.email(),
  name: z.string(),
});

/** services/user/src/use-cases/log-in.ts. */
export const tokenSchema = z.object({
  token: z.string().describe('HS256 JWT; send as `Authorization: Bearer <token>`.'),
  expiresIn: z.number().int().describe('Seconds until the token expires.'),
});

/** services/catalog/src/domain/product.ts `Product`. */
export const productSchema = z.object({
  id: z.string(),
  name: z.string(),
  description: z.string(),
  category: z.string(),
  priceCents: z.number().int().nonnegative(),
});
export const productPageSchema = z.object({
  items: z.array(productSchema),
  total: z.number().int().nonnegative().describe('Matches across all pages.'),
});

/** services/inventory/src/use-cases/get-stock.ts. */
export const stockSchema = z.object({
  productId: z.string(),
  available: z.number().int(),
  reserved: z.number().int(),
});

const orderStatus = z.enum(['PENDING', 'CONFIRMED', 'CANCELLED']);

/** services/order/src/use-cases/order-view.ts `OrderView`: the event-sourced order (strongly consistent). */
export const orderSchema = z.object({
  id: z.uuid(),
  status: orderStatus,
  items: z.array(orderLineSchema),
  totalCents: z.number().int().nonnegative(),
  reason: z.enum(cancelReasons).optional().describe('Present when CANCELLED.'),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
});

/** services/order/src/projections/order-summary.ts `summaryView`: the CQRS read model (eventually consistent). */
export const orderSummarySchema = z.object({
  id: z.uuid(),
  status: orderStatus,
  paymentStatus: z.enum(['PENDING', 'CHARGED', 'DECLINED', 'REFUNDED']),
  inventoryStatus: z.enum(['PENDING', 'RESERVED', 'REJECTED', 'RELEASED', 'COMMITTED']),
  reason: z.string().optional(),
  items: z.array(orderLineSchema),
  totalCents: z.number().int().nonnegative(),
  notifications: z.array(z.string()).describe('Kinds of notification sent, sorted.'),
  timeline: z.array(z.object({ type: z.string(), at: z.iso.datetime(), source: z.string() })).describe('Every event about the order, in time order.'),
  createdAt: z.iso.datetime().optional(),
  updatedAt: z.iso.datetime().optional(),
});
export const orderSummaryListSchema = z.object({
  items: z.array(orderSummarySchema).describe('Newest first, at most 100.'),
});

/** services/order/src/use-cases/get-order-history.ts. */
export const orderHistorySchema = z.object({
  items: z.array(
    z.object({
      type: z.string().describe('Event type (orders.placed, orders.confirmed, orders.cancelled).'),
      version: z.number().int().min(1),
      occurredAt: z.iso.datetime(),
      traceId: z.string().nullable().describe('Trace that recorded the event, for jumping to it in the tracing UI.'),
    }),
  ),
});

/** services/payment/src/use-cases/get-ledger.ts: the order's money movements, replayed (optionally as of a time). */
export const paymentLedgerSchema = z.object({
  orderId: z.string(),
  paymentId: z.string(),
  asOf: z.iso.datetime().nullable().describe('The instant asked for, or null for now.'),
  status: z.enum(['NONE', 'CHARGED', 'DECLINED', 'REFUNDED']),
  balanceCents: z.number().int().describe('Charged minus refunded.'),
  entries: z.array(
    z.object({
      type: z.enum(['charged', 'declined', 'refunded']),
      amountCents: z.number().int().nonnegative(),
      version: z.number().int().min(1),
      at: z.iso.datetime(),
      traceId: z.string().nullable(),
    }),
  ),
});

/** services/notification/src/use-cases/list-notifications.ts. */
export const notificationListSchema = z.object({
  items: z
    .array(
      z.object({
        id: z.string(),
        orderId: z.string(),
        kind: z.enum(['order-confirmed', 'order-cancelled']),
        subject: z.string(),
        body: z.string(),
        status: z.enum(['QUEUED', 'SENT']),
        createdAt: z.iso.datetime(),
      }),
    )
    .describe('Newest first, at most 100.'),
});

/** platform/faults/injector.ts `Fault`. */
export const faultSchema = z.object({
  id: z.uuid(),
  service: z.string(),
  kind: z.enum(faultKinds),
  latencyMs: z.number().int().optional(),
  errorRate: z.number().min(0).max(1).optional(),
  route: z.string().optional(),
  durationSeconds: z.number().int(),
  createdAt: z.iso.datetime(),
  expiresAt: z.iso.datetime(),
});

/** gateway/src/http/admin.ts GET /faults: every process's faults; services that did not answer are named. */
export const faultListSchema = z.object({
  items: z.array(faultSchema),
  unreachable: z.array(z.string()).optional(),
});

/** platform/faults/http.ts `faultAdminRouter` consumers answer. */
export const consumersStateSchema = z.object({
  service: z.string(),
  consumers: z.enum(['paused', 'running']),
});

/** platform/http/app.ts probes. */
export const livenessSchema = z.object({ status: z.literal('alive') });
export const readinessSchema = z.object({
  status: z.enum(['ready', 'not-ready']),
  checks: z.record(z.string(), z.boolean()),
});
