import { formatTime } from '../lib/format';
import type { OrderSummary } from '../lib/types';

const STEP_STATE: Record<string, 'done' | 'failed' | 'waiting'> = {
  CHARGED: 'done',
  RESERVED: 'done',
  COMMITTED: 'done',
  DECLINED: 'failed',
  REJECTED: 'failed',
  REFUNDED: 'failed',
  RELEASED: 'failed',
  PENDING: 'waiting',
};

/** The saga at a glance (from the read model): payment, stock and notification, then every event in time order. */
export function SagaTimeline({ summary, detailed = false }: { summary: OrderSummary; detailed?: boolean }) {
  const notification = summary.notifications.length > 0 ? summary.notifications.join(', ') : 'PENDING';
  const steps = [
    { name: 'Payment', value: summary.paymentStatus, state: STEP_STATE[summary.paymentStatus] ?? 'waiting' },
    { name: 'Stock', value: summary.inventoryStatus, state: STEP_STATE[summary.inventoryStatus] ?? 'waiting' },
    { name: 'Notification', value: notification, state: summary.notifications.length > 0 ? 'done' : 'waiting' },
  ] as const;
  return (
    <div className="saga" data-testid="saga">
      <ol className="steps">
        {steps.map((step) => (
          <li key={step.name} className={`step ${step.state}`} data-testid={`saga-${step.name.toLowerCase()}`} data-value={step.value}>
            <span className="muted">{step.name}</span> <strong>{step.value}</strong>
          </li>
        ))}
      </ol>
      {detailed && summary.timeline.length > 0 && (
        <ol className="timeline" data-testid="timeline">
          {summary.timeline.map((event, i) => (
            <li key={`${event.type}-${i}`}>
              <code>{event.type}</code> <span className="muted">from {event.source}</span> <time dateTime={event.at}>{formatTime(event.at)}</time>
            </li>
          ))}
        </ol>
      )}
    </div>
  );
}
