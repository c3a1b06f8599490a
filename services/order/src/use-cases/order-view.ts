import type { CancelReason } from '@tracemart/contracts';
import type { StoredEvent } from '../data/event-store';
import type { OrderState } from '../domain/order';

/** The event-sourced order as the API shows it (strongly consistent, unlike the read model's summary). */
export interface OrderView {
  id: string;
  status: OrderState['status'];
  items: OrderState['items'];
  totalCents: number;
  reason?: CancelReason;
  createdAt: string;
  updatedAt: string;
}

export function toView(state: OrderState, events: readonly StoredEvent[]): OrderView {
  const first = events[0];
  const last = events[events.length - 1];
  return {
    id: state.id,
    status: state.status,
    items: state.items,
    totalCents: state.totalCents,
    ...(state.reason ? { reason: state.reason } : {}),
    createdAt: (first?.occurredAt ?? new Date()).toISOString(),
    updatedAt: (last?.occurredAt ?? new Date()).toISOString(),
  };
}
