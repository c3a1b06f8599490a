import type { EventEnvelope } from '@tracemart/platform';
import { eventCatalog, streams, type StreamDefinition } from '@tracemart/contracts';

/**
 * The order summary read model (CQRS): one document per order, joined from the events of every
 * service (order, inventory, payment, notification) without reading anyone's database. Each event
 * maps to one update that is idempotent (guarded by the applied event ids) and commutative (fields that
 * only one event type sets, plus set unions), so arrival order across streams does not matter and a
 * replay from the start produces the same documents.
 */
export interface OrderSummary {
  _id: string;
  userId?: string;
  reason?: string;
  items?: { productId: string; name: string; quantity: number; unitPriceCents: number }[];
  totalCents?: number;
  /** Event types seen for this order: a set, so the result does not depend on arrival order. */
  facts?: string[];
  notifications?: string[];
  timeline?: { eventId: string; type: string; at: Date; source: string }[];
  appliedEvents?: string[];
  createdAt?: Date;
  updatedAt?: Date;
}

export interface SummaryUpdate {
  set: Partial<Pick<OrderSummary, 'userId' | 'reason' | 'items' | 'totalCents'>>;
  notification?: string;
}

interface OrderRef {
  orderId: string;
}

/** The order an event is about, or undefined when it does not concern the read model. */
export function orderIdOf(event: EventEnvelope): string | undefined {
  const data = event.data as Partial<OrderRef> | undefined;
  return typeof data?.orderId === 'string' ? data.orderId : undefined;
}

/** The streams the read model joins: one projector consumer each, and what a rebuild replays. */
export const summaryStreams = [streams.orders, streams.inventory, streams.payments, streams.notifications];

const onStream = (stream: StreamDefinition, type: string): boolean =>
  stream.subjects.some((pattern) => pattern === type || (pattern.endsWith('.>') && type.startsWith(pattern.slice(0, -1))));

/** Every event type of the joined streams (each is about one order). */
const projected = new Set<string>(eventCatalog.types.filter((type) => summaryStreams.some((stream) => onStream(stream, type))));

/** What one event adds to its order's summary (its type is always added to `facts`). */
export function summaryUpdate(event: EventEnvelope): SummaryUpdate | undefined {
  if (!projected.has(event.type)) return undefined;
  const data = event.data as Record<string, unknown>;
  switch (event.type) {
    case 'orders.placed':
      return { set: { userId: data.userId as string, items: data.items as OrderSummary['items'], totalCents: data.totalCents as number } };
    case 'orders.confirmed':
      return { set: { userId: data.userId as string } };
    case 'orders.cancelled':
      return { set: { userId: data.userId as string, reason: data.reason as string } };
    case 'notifications.sent':
      return { set: {}, notification: data.kind as string };
    default:
      return { set: {} };
  }
}

/**
 * The one update an event makes to its order's summary document: the fields it sets, set unions (event ids, facts,
 * notifications), a timeline entry, and the earliest/latest time seen. Every part commutes with every other event's.
 */
export function summaryChanges(event: EventEnvelope, update: SummaryUpdate) {
  const at = new Date(event.occurredAt);
  return {
    ...(Object.keys(update.set).length > 0 ? { $set: update.set } : {}),
    $push: { timeline: { eventId: event.id, type: event.type, at, source: event.source } },
    $addToSet: { appliedEvents: event.id, facts: event.type, ...(update.notification ? { notifications: update.notification } : {}) },
    $min: { createdAt: at },
    $max: { updatedAt: at },
  };
}

/** Statuses are derived from the set of facts, latest stage first. */
export function deriveStatuses(facts: readonly string[]) {
  const has = (type: string) => facts.includes(type);
  const status = has('orders.cancelled') ? 'CANCELLED' : has('orders.confirmed') ? 'CONFIRMED' : 'PENDING';
  const paymentStatus = has('payments.refunded') ? 'REFUNDED' : has('payments.charged') ? 'CHARGED' : has('payments.declined') ? 'DECLINED' : 'PENDING';
  const inventoryStatus = has('inventory.released')
    ? 'RELEASED'
    : has('inventory.committed')
      ? 'COMMITTED'
      : has('inventory.rejected')
        ? 'REJECTED'
        : has('inventory.reserved')
          ? 'RESERVED'
          : 'PENDING';
  return { status, paymentStatus, inventoryStatus } as const;
}

/** The summary as the API shows it: timeline in time order, internals removed. */
export function summaryView(doc: OrderSummary) {
  const timeline = [...(doc.timeline ?? [])].sort((a, b) => a.at.getTime() - b.at.getTime() || a.eventId.localeCompare(b.eventId));
  return {
    id: doc._id,
    ...deriveStatuses(doc.facts ?? []),
    ...(doc.reason ? { reason: doc.reason } : {}),
    items: doc.items ?? [],
    totalCents: doc.totalCents ?? 0,
    notifications: [...(doc.notifications ?? [])].sort(),
    timeline: timeline.map((entry) => ({ type: entry.type, at: entry.at.toISOString(), source: entry.source })),
    createdAt: doc.createdAt?.toISOString(),
    updatedAt: doc.updatedAt?.toISOString(),
  };
}
export type OrderSummaryView = ReturnType<typeof summaryView>;
