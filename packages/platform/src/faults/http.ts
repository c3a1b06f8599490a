import { createHash, timingSafeEqual } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Router, type RequestHandler } from 'express';
import { AppError } from '../errors';
import { cpuProfileRoutes } from '../http/cpu-profile';
import { parseInput } from '../http/input';
import { faultSpecSchema, type FaultInjector } from './injector';

/** Probes, metrics and the admin API itself are never faulted, so operators can always see and undo. */
const EXEMPT = ['/livez', '/readyz', '/metrics', '/admin'];
const isExempt = (path: string) => EXEMPT.some((prefix) => path === prefix || path.startsWith(`${prefix}/`));

/** Applies the active faults to every other route: delay, then an injected 500 or 503. */
export function faultMiddleware(injector: FaultInjector): RequestHandler {
  return async (req, res, next) => {
    if (isExempt(req.path)) return next();
    const effect = injector.effectFor(req.path);
    if (!effect) return next();
    if (effect.delayMs > 0) await sleep(effect.delayMs);
    // Answered here rather than thrown: an injected failure is expected, not worth an error log line per request.
    if (effect.fail === 'outage') {
      res.setHeader('retry-after', '1');
      res.status(503).json({ error: { code: 'FAULT.OUTAGE', message: `${injector.service} is unavailable (injected outage)` } });
      return;
    }
    if (effect.fail === 'error') {
      res.status(500).json({ error: { code: 'FAULT.INJECTED', message: 'injected error' } });
      return;
    }
    next();
  };
}

const digest = (value: string) => createHash('sha256').update(value).digest();

/**
 * The admin credential: `x-admin-token` must equal ADMIN_TOKEN (compared in constant time). Without a
 * configured token the admin API is off and answers 403 to everything.
 */
export function requireAdminToken(adminToken: string | undefined): RequestHandler {
  const expected = adminToken ? digest(adminToken) : undefined;
  return (req, _res, next) => {
    if (!expected) return next(new AppError('forbidden', 'ADMIN.DISABLED', 'the admin API is disabled (no ADMIN_TOKEN configured)'));
    const given = req.header('x-admin-token');
    if (!given) return next(new AppError('unauthenticated', 'ADMIN.TOKEN_REQUIRED', 'an x-admin-token header is required'));
    if (!timingSafeEqual(digest(given), expected)) return next(new AppError('forbidden', 'ADMIN.FORBIDDEN', 'invalid admin token'));
    next();
  };
}

export interface ConsumerControl {
  pause: () => Promise<void>;
  resume: () => Promise<void>;
}

/**
 * Every process's admin API (mounted at /admin): inject, list and clear faults; pause and resume the
 * process's JetStream consumers; record a CPU profile (`GET /admin/profile/cpu`).
 */
export function faultAdminRouter(options: { injector: FaultInjector; adminToken: string | undefined; consumers?: ConsumerControl }): Router {
  const { injector, consumers } = options;
  const router = Router();
  router.use(requireAdminToken(options.adminToken));
  router.use(cpuProfileRoutes());
  router.post('/faults', (req, res) => {
    const spec = parseInput(faultSpecSchema, req.body, 'fault');
    if (spec.service !== undefined && spec.service !== injector.service) {
      throw new AppError('invalid', 'FAULT.WRONG_SERVICE', `this is ${injector.service}, not ${spec.service}`);
    }
    res.status(201).json(injector.inject(spec));
  });
  router.get('/faults', (_req, res) => {
    res.json({ items: injector.list() });
  });
  router.delete('/faults', (_req, res) => {
    injector.clearAll();
    res.status(204).end();
  });
  router.delete('/faults/:id', (req, res) => {
    if (!injector.clear(String(req.params.id))) throw new AppError('not_found', 'FAULT.NOT_FOUND', 'no such active fault');
    res.status(204).end();
  });
  for (const action of ['pause', 'resume'] as const) {
    router.post(`/consumers/${action}`, async (_req, res) => {
      if (!consumers) throw new AppError('not_found', 'ADMIN.NO_CONSUMERS', `${injector.service} has no consumers`);
      await consumers[action]();
      res.json({ service: injector.service, consumers: action === 'pause' ? 'paused' : 'running' });
    });
  }
  return router;
}
