import { useEffect, useState } from 'react';
import { Link } from 'wouter';
import { call } from '../lib/api';
import { describeOffset, eventsUpTo, instantAt, sliderMax, timeScale } from '../lib/as-of';
import { formatCents, formatTime } from '../lib/format';
import { useSession } from '../lib/session';
import type { HistoryEvent, Order, OrderSummary } from '../lib/types';
import { ErrorNotice } from '../components/ErrorNotice';
import { SagaTimeline } from '../components/SagaTimeline';
import { TraceInfo } from '../components/TraceInfo';
import { useLoad } from '../components/use-load';
import { RequireLogin } from './RequireLogin';

const POLL = { pollMs: 1_000, maxPolls: 60 };

/** One order: now (event-sourced), its saga (read model), its events with their traces, and a slider through time. */
export function OrderPage({ id }: { id: string }) {
  const session = useSession();
  if (!session) return <RequireLogin what="this order" />;
  return <OrderView id={id} token={session.token} />;
}

function OrderView({ id, token }: { id: string; token: string }) {
  const order = useLoad(async (signal) => (await call<Order>(`/api/orders/${encodeURIComponent(id)}`, { token, signal })).body, [id, token], {
    ...POLL,
    keepPolling: (o) => o.status === 'PENDING',
  });
  const history = useLoad(async (signal) => (await call<{ items: HistoryEvent[] }>(`/api/orders/${encodeURIComponent(id)}/history`, { token, signal })).body.items, [id, token], {
    ...POLL,
    keepPolling: (items) => !items.some((e) => e.type !== 'orders.placed'),
  });
  const summary = useLoad(async (signal) => (await call<{ items: OrderSummary[] }>('/api/orders', { token, signal })).body.items.find((o) => o.id === id), [id, token], {
    ...POLL,
    keepPolling: (s) => !s || s.status === 'PENDING' || s.notifications.length === 0,
  });

  if (order.error !== undefined && !order.data) return <ErrorNotice error={order.error} retryAt={order.retryAt} onRetry={order.reload} />;
  if (!order.data) return <p className="muted">Loading…</p>;
  const o = order.data;
  const events = history.data ?? [];
  const placedTrace = events.find((e) => e.type === 'orders.placed')?.traceId ?? events[0]?.traceId;

  return (
    <article aria-labelledby="order-title" data-testid="order" data-order-id={o.id} data-status={o.status}>
      <p>
        <Link href="/orders">← Your orders</Link>
      </p>
      <h1 id="order-title">
        Order <code>{o.id.slice(0, 8)}</code>{' '}
        <span className={`badge ${o.status.toLowerCase()}`} data-testid="order-status">
          {o.status}
        </span>
      </h1>
      {o.reason && <p data-testid="order-reason">Reason: {o.reason.replace(/_/g, ' ').toLowerCase()}</p>}
      <TraceInfo traceId={placedTrace} label="See this trace" testId="order-trace-id" />
      <ul className="plain">
        {o.items.map((line) => (
          <li key={line.productId}>
            {line.quantity} × {line.name} · {formatCents(line.unitPriceCents * line.quantity)}
          </li>
        ))}
      </ul>
      <p className="price">Total: {formatCents(o.totalCents)}</p>

      <h2>Saga</h2>
      {summary.data ? <SagaTimeline summary={summary.data} detailed /> : <p className="muted">Waiting for the read model…</p>}

      <h2>Time travel</h2>
      <AsOfSlider orderId={o.id} token={token} events={events} />

      <h2>Event history</h2>
      {history.error !== undefined && <ErrorNotice error={history.error} retryAt={history.retryAt} onRetry={history.reload} />}
      <div className="scroll">
        <table className="lines" data-testid="history">
          <thead>
            <tr>
              <th scope="col">#</th>
              <th scope="col">Event</th>
              <th scope="col">When</th>
              <th scope="col">Trace</th>
            </tr>
          </thead>
          <tbody>
            {events.map((event) => (
              <tr key={event.version}>
                <td>{event.version}</td>
                <td>
                  <code>{event.type}</code>
                </td>
                <td>
                  <time dateTime={event.occurredAt}>{formatTime(event.occurredAt)}</time>
                </td>
                <td className="ellipsis">{event.traceId ? <TraceInfo traceId={event.traceId} label="trace" testId="event-trace-id" /> : '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </article>
  );
}

/**
 * A range input over the order's lifetime (first to last event, in ms). Moving it asks the order service for
 * the order `?asOf=` that instant: the temporal query, made visible. The End key returns to the present.
 */
function AsOfSlider({ orderId, token, events }: { orderId: string; token: string; events: HistoryEvent[] }) {
  const scale = timeScale(events.map((e) => e.occurredAt));
  const max = scale ? sliderMax(scale) : 0;
  const [offset, setOffset] = useState<number | undefined>(undefined);
  const position = offset ?? max;
  const instant = scale ? instantAt(scale, position) : undefined;
  const asked = offset === undefined ? undefined : instant;
  const [past, setPast] = useState<{ instant: string; order?: Order; error?: unknown } | undefined>();

  useEffect(() => {
    if (!asked) return;
    const controller = new AbortController();
    const timer = window.setTimeout(() => {
      call<Order>(`/api/orders/${encodeURIComponent(orderId)}?asOf=${encodeURIComponent(asked)}`, { token, signal: controller.signal }).then(
        ({ body }) => setPast({ instant: asked, order: body }),
        (error: unknown) => {
          if (!controller.signal.aborted) setPast({ instant: asked, error });
        },
      );
    }, 120);
    return () => {
      window.clearTimeout(timer);
      controller.abort();
    };
  }, [asked, orderId, token]);

  if (!scale) return <p className="muted">Waiting for the order's events…</p>;
  const happened = instant ? eventsUpTo(events, instant) : events;
  const shown = asked && past?.instant === asked ? past : undefined;
  return (
    <div className="asof" data-testid="asof">
      <label htmlFor="asof-slider">
        As of <time dateTime={instant}>{instant ? formatTime(instant) : ''}</time> ({describeOffset(position)} after it was placed)
      </label>
      <input
        id="asof-slider"
        data-testid="asof-slider"
        type="range"
        min={0}
        max={max}
        step={1}
        value={position}
        list="asof-marks"
        onChange={(e) => setOffset(Number(e.target.value) >= max ? undefined : Number(e.target.value))}
        aria-valuetext={`${describeOffset(position)} after the order was placed`}
      />
      <datalist id="asof-marks">
        {events.map((e) => (
          <option key={e.version} value={Math.round(Date.parse(e.occurredAt) - scale.startMs)} label={e.type} />
        ))}
      </datalist>
      <p aria-live="polite">
        {offset === undefined ? (
          <>Now: showing the order as it is. Move the slider back to see it as it was.</>
        ) : shown?.order ? (
          <>
            Then it was{' '}
            <span className={`badge ${shown.order.status.toLowerCase()}`} data-testid="asof-status">
              {shown.order.status}
            </span>{' '}
            after {happened.map((e) => e.type).join(', ')}
          </>
        ) : shown?.error !== undefined ? (
          <ErrorNotice error={shown.error} />
        ) : (
          <span className="muted">Asking the order service…</span>
        )}
      </p>
    </div>
  );
}
