import type { EventEnvelope } from '@tracemart/platform';

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

const projected = new Set([
  'orders.placed',
  'orders.confirmed',
  'orders.cancelled',
  'inventory.reserved',
  'inventory.rejected',
  'inventory.released',
  'inventory.committed',
  'payments.charged',
  'payments.declined',
  'payments.refunded',
  'notifications.sent',
]);

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
