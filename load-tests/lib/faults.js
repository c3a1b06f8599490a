// Fault injection through the gateway's admin API. Faults expire on their own, so a run that dies
// mid-way leaves nothing behind for longer than the duration it asked for.
import { check } from 'k6';
import { del, get, json, post } from './api.js';
import { ADMIN_TOKEN } from './config.js';

const adminHeaders = () => ({ 'x-admin-token': ADMIN_TOKEN });

/**
 * POST /admin/faults. `spec` = { service, kind, durationSeconds, latencyMs?, errorRate?, route? }.
 * @returns {string|null} the fault id
 */
export function injectFault(spec, tags = {}) {
  const res = post('/admin/faults', spec, {
    name: 'POST /admin/faults',
    kind: 'admin',
    headers: adminHeaders(),
    tags,
    expected: [201],
  });
  const body = json(res);
  const ok = check(res, { 'fault injected: 201 with id': (r) => r.status === 201 && Boolean(body && body.id) }, tags);
  if (!ok) console.error(`fault injection failed: ${res.status} ${String(res.body).slice(0, 200)}`);
  return ok ? body.id : null;
}

/** DELETE /admin/faults/:id; a 404 means it already expired, which is fine. */
export function clearFault(id, tags = {}) {
  const res = del(`/admin/faults/${encodeURIComponent(id)}`, {
    name: 'DELETE /admin/faults/:id',
    kind: 'admin',
    headers: adminHeaders(),
    tags,
    expected: [200, 204, 404],
  });
  return check(res, { 'fault cleared': (r) => [200, 204, 404].includes(r.status) }, tags);
}

/** GET /admin/faults; returns the list (accepts a bare array or `{ items }`). */
export function listFaults(tags = {}) {
  const res = get('/admin/faults', { name: 'GET /admin/faults', kind: 'admin', headers: adminHeaders(), tags });
  const body = json(res);
  if (res.status !== 200 || !body) return { res, faults: [] };
  return { res, faults: Array.isArray(body) ? body : body.items || body.faults || [] };
}

/** Clears every active fault matching service and kind; used by teardown as a safety net. */
export function clearFaultsMatching(service, kind) {
  const { faults } = listFaults({ kind: 'admin' });
  for (const fault of faults.slice(0, 50)) {
    if (fault && fault.id && fault.service === service && fault.kind === kind) clearFault(fault.id);
  }
}
