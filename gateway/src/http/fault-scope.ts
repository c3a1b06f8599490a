import type { RequestHandler } from 'express';
import { faultMiddleware, type FaultInjector } from '@tracemart/platform';
import { API_PREFIX } from './route-table';

/**
 * Which of the gateway's requests its injected faults hit: the API, as before, but not what lets the shop show a
 * failure: its files and GET /api/config (so that a page loaded during a drill still renders and links each failed
 * call's trace), and POST /otlp/v1/traces (so that the browser's spans of the failed calls still reach the
 * Collector). Probes and /admin stay exempt in the platform's middleware itself.
 */
const UNFAULTED_API_PATHS = new Set([`${API_PREFIX}/config`]);

export function apiFaults(injector: FaultInjector): RequestHandler {
  const apply = faultMiddleware(injector);
  return (req, res, next) => {
    const path = req.path;
    const faulted = (path === API_PREFIX || path.startsWith(`${API_PREFIX}/`)) && !UNFAULTED_API_PATHS.has(path);
    if (!faulted) return next();
    return apply(req, res, next);
  };
}
