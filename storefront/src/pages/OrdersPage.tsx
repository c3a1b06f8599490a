import { Link } from 'wouter';
import { call } from '../lib/api';
import { formatCents, formatTime } from '../lib/format';
import { useSession } from '../lib/session';
import type { OrderSummary } from '../lib/types';
import { ErrorNotice } from '../components/ErrorNotice';
import { SagaTimeline } from '../components/SagaTimeline';
import { useLoad } from '../components/use-load';
import { RequireLogin } from './RequireLogin';

const unsettled = (o: OrderSummary) => o.status === 'PENDING' || o.notifications.length === 0;

/** The shopper's orders from the read model (eventually consistent), refreshed while a saga is still running. */
export function OrdersPage() {
  const session = useSession();
  const orders = useLoad(async (signal) => (session ? (await call<{ items: OrderSummary[] }>('/api/orders', { token: session.token, signal })).body.items : []), [session?.token], {
    pollMs: 1_000,
    keepPolling: (items) => items.some(unsettled),
    maxPolls: 60,
  });
  if (!session) return <RequireLogin what="your orders" />;
  return (
    <section aria-labelledby="orders-title">
      <h1 id="orders-title">Your orders</h1>
      {orders.error !== undefined && <ErrorNotice error={orders.error} retryAt={orders.retryAt} onRetry={orders.reload} />}
      {orders.data?.length === 0 && <p>No orders yet.</p>}
      <ul className="orders" data-testid="orders">
        {(orders.data ?? []).map((order) => (
          <li key={order.id} className="card" data-testid="order-row" data-order-id={order.id} data-status={order.status}>
            <Link href={`/orders/${order.id}`}>
              <strong>Order {order.id.slice(0, 8)}</strong>
            </Link>
            <span className={`badge ${order.status.toLowerCase()}`}>{order.status}</span>
            {order.reason && <span className="muted">{order.reason}</span>}
            <span>
              {order.items.map((i) => `${i.quantity} × ${i.name}`).join(', ')} · {formatCents(order.totalCents)}
            </span>
            {order.createdAt && <span className="muted">{formatTime(order.createdAt)}</span>}
            <SagaTimeline summary={order} />
          </li>
        ))}
      </ul>
    </section>
  );
}
