import { useEffect, useState, type FormEvent } from 'react';
import { call } from '../lib/api';
import { formatDuration, remainingSeconds } from '../lib/format';
import { session as sessionStorageOf, storedValue, useStore } from '../lib/store';
import type { Fault, FaultKind, FaultSpec } from '../lib/types';
import { ErrorNotice } from '../components/ErrorNotice';

/** The processes `npm run fault` can target (gateway/src/http/admin.ts: the gateway itself and every service). */
export const FAULT_TARGETS = ['gateway', 'user', 'catalog', 'order', 'inventory', 'payment', 'notification'] as const;
const KINDS: FaultKind[] = ['outage', 'error', 'latency'];

/**
 * The admin token is typed by the operator and kept for this tab only (sessionStorage), never in the bundle
 * or in localStorage; "Forget" removes it.
 */
const adminTokenStore = storedValue<string>(
  sessionStorageOf,
  'tracemart.adminToken',
  (json) => json ?? '',
  (token) => token || null,
);

/** The demo's fault panel: break payment, watch checkout answer 503 at once while browsing keeps working. */
export function FaultPanel() {
  const token = useStore(adminTokenStore);
  const [draftToken, setDraftToken] = useState('');
  const [faults, setFaults] = useState<{ items: Fault[]; unreachable?: string[] } | undefined>();
  const [failure, setFailure] = useState<unknown>();
  const [now, setNow] = useState(() => Date.now());
  const [spec, setSpec] = useState<FaultSpec>({ service: 'payment', kind: 'outage', durationSeconds: 60 });
  const [refresh, setRefresh] = useState(0);

  const admin = <T,>(method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown) => call<T>(`/admin${path}`, { method, body, headers: { 'x-admin-token': token } });

  useEffect(() => {
    if (!token) return;
    let stopped = false;
    let timer: number | undefined;
    let polls = 0;
    const load = async () => {
      try {
        const { body } = await admin<{ items: Fault[]; unreachable?: string[] }>('GET', '/faults');
        if (!stopped) {
          setFaults(body);
          setFailure(undefined);
        }
      } catch (error) {
        if (!stopped) setFailure(error);
      }
      // Refresh every 3 s for up to 30 minutes of an open panel.
      if (!stopped && polls++ < 600) timer = window.setTimeout(() => void load(), 3_000);
    };
    void load();
    return () => {
      stopped = true;
      window.clearTimeout(timer);
    };
  }, [token, refresh]);

  useEffect(() => {
    const timer = window.setInterval(() => setNow(Date.now()), 1_000);
    return () => window.clearInterval(timer);
  }, []);

  const act = async (action: () => Promise<unknown>) => {
    try {
      await action();
      setFailure(undefined);
    } catch (error) {
      setFailure(error);
    }
    setRefresh((r) => r + 1);
  };

  const inject = (event: FormEvent) => {
    event.preventDefault();
    const body: FaultSpec = { service: spec.service, kind: spec.kind, durationSeconds: spec.durationSeconds };
    if (spec.kind === 'latency') body.latencyMs = spec.latencyMs ?? 2_000;
    if (spec.kind === 'error') body.errorRate = spec.errorRate ?? 1;
    if (spec.route) body.route = spec.route;
    void act(() => admin('POST', '/faults', body));
  };

  if (!token) {
    return (
      <section aria-labelledby="faults-title" className="narrow">
        <h1 id="faults-title">Fault panel</h1>
        <p>Inject and lift faults through the gateway's admin API. It needs the stack's admin token (`.data/admin-token` for `npm start`).</p>
        <form
          className="stack"
          onSubmit={(e) => {
            e.preventDefault();
            adminTokenStore.set(draftToken.trim());
          }}
        >
          <label>
            Admin token
            <input type="password" name="adminToken" autoComplete="off" required value={draftToken} onChange={(e) => setDraftToken(e.target.value)} />
          </label>
          <button type="submit" className="primary">
            Use for this tab
          </button>
        </form>
      </section>
    );
  }

  const items = [...(faults?.items ?? [])].sort((a, b) => a.expiresAt.localeCompare(b.expiresAt));
  return (
    <section aria-labelledby="faults-title">
      <h1 id="faults-title">Fault panel</h1>
      <p className="row">
        <button type="button" className="danger" onClick={() => void act(() => admin('POST', '/faults', { service: 'payment', kind: 'outage', durationSeconds: 60 }))}>
          Break payment for 60 s
        </button>
        <button type="button" onClick={() => void act(() => admin('DELETE', '/faults'))}>
          Clear all faults
        </button>
        <button
          type="button"
          className="link"
          onClick={() => {
            adminTokenStore.set('');
            setFaults(undefined);
          }}
        >
          Forget the admin token
        </button>
      </p>
      {failure !== undefined && <ErrorNotice error={failure} />}

      <h2>Active faults</h2>
      {faults?.unreachable && faults.unreachable.length > 0 && <p className="notice">Did not answer: {faults.unreachable.join(', ')}</p>}
      {items.length === 0 ? (
        <p data-testid="no-faults">None: everything behaves.</p>
      ) : (
        <ul className="orders" data-testid="faults">
          {items.map((fault) => (
            <li key={`${fault.service}-${fault.id}`} className="card" data-testid="fault" data-service={fault.service} data-kind={fault.kind}>
              <strong>
                {fault.service}: {fault.kind}
                {fault.kind === 'latency' && fault.latencyMs !== undefined && ` +${fault.latencyMs} ms`}
                {fault.kind === 'error' && fault.errorRate !== undefined && ` ${Math.round(fault.errorRate * 100)} %`}
                {fault.route && ` on ${fault.route}`}
              </strong>
              <span data-testid="fault-remaining">{formatDuration(remainingSeconds(fault.expiresAt, now))} left</span>
              <button type="button" className="small" onClick={() => void act(() => admin('DELETE', `/faults/${fault.id}?service=${encodeURIComponent(fault.service)}`))}>
                Clear
              </button>
            </li>
          ))}
        </ul>
      )}

      <h2>Inject a fault</h2>
      <form className="filters" onSubmit={inject}>
        <label>
          Process
          <select value={spec.service} onChange={(e) => setSpec({ ...spec, service: e.target.value })}>
            {FAULT_TARGETS.map((t) => (
              <option key={t} value={t}>
                {t}
              </option>
            ))}
          </select>
        </label>
        <label>
          Kind
          <select value={spec.kind} onChange={(e) => setSpec({ ...spec, kind: e.target.value as FaultKind })}>
            {KINDS.map((k) => (
              <option key={k} value={k}>
                {k}
              </option>
            ))}
          </select>
        </label>
        <label>
          Seconds
          <input
            type="number"
            min={1}
            max={3600}
            value={spec.durationSeconds}
            onChange={(e) => setSpec({ ...spec, durationSeconds: Math.min(3600, Math.max(1, Number(e.target.value) || 1)) })}
          />
        </label>
        {spec.kind === 'latency' && (
          <label>
            Delay (ms)
            <input type="number" min={1} max={60000} value={spec.latencyMs ?? 2000} onChange={(e) => setSpec({ ...spec, latencyMs: Number(e.target.value) || 1 })} />
          </label>
        )}
        {spec.kind === 'error' && (
          <label>
            Error rate (0–1)
            <input type="number" min={0} max={1} step={0.1} value={spec.errorRate ?? 1} onChange={(e) => setSpec({ ...spec, errorRate: Number(e.target.value) })} />
          </label>
        )}
        <label>
          Route prefix (optional)
          <input value={spec.route ?? ''} placeholder="/payments" pattern="/[\w\-/.:]{0,200}" onChange={(e) => setSpec({ ...spec, route: e.target.value || undefined })} />
        </label>
        <button type="submit" className="danger">
          Inject
        </button>
      </form>
    </section>
  );
}
