import { Link } from 'wouter';
import { call } from '../lib/api';
import { formatTime } from '../lib/format';
import { useSession } from '../lib/session';
import type { Notification } from '../lib/types';
import { ErrorNotice } from '../components/ErrorNotice';
import { useLoad } from '../components/use-load';
import { RequireLogin } from './RequireLogin';

export function NotificationsPage() {
  const session = useSession();
  const list = useLoad(
    async (signal) => (session ? (await call<{ items: Notification[] }>('/api/notifications', { token: session.token, signal })).body.items : []),
    [session?.token],
    { pollMs: 3_000, keepPolling: () => true, maxPolls: 40 },
  );
  if (!session) return <RequireLogin what="your notifications" />;
  return (
    <section aria-labelledby="notifications-title">
      <h1 id="notifications-title">Notifications</h1>
      {list.error !== undefined && <ErrorNotice error={list.error} retryAt={list.retryAt} onRetry={list.reload} />}
      {list.data?.length === 0 && <p>Nothing yet: you hear from us when an order is confirmed or cancelled.</p>}
      <ul className="orders" data-testid="notifications">
        {(list.data ?? []).map((n) => (
          <li key={n.id} className="card" data-testid="notification" data-kind={n.kind}>
            <strong>{n.subject}</strong>
            <span>{n.body}</span>
            <span className="muted">
              {n.status} · {formatTime(n.createdAt)} · <Link href={`/orders/${n.orderId}`}>order {n.orderId.slice(0, 8)}</Link>
            </span>
          </li>
        ))}
      </ul>
    </section>
  );
}
