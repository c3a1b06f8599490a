import { Router, type RequestHandler } from 'express';
import { Agent, request } from 'undici';
import { AppError, cpuProfileRoutes, faultSpecSchema, parseInput, requireAdminToken, type Fault, type FaultInjector, type Logger } from '@tracemart/platform';
import { ADMIN_ROUTES, consumersBodySchema, faultIdSchema, serviceQuerySchema, type AdminOperationId } from './route-table';

const GATEWAY = 'gateway';

interface Answer {
  status: number;
  body: unknown;
}

/**
 * The gateway's admin API (ADMIN_ROUTES): its own faults, plus a proxy to every service's admin API so that an
 * operator or a load test reaches the whole system at one address. `service` (body for POST, query for
 * DELETE) picks the target; `gateway` or none means the gateway itself. The gateway's ADMIN_TOKEN is
 * sent on to the services.
 */
export function gatewayAdminRouter(options: { injector: FaultInjector; adminToken: string | undefined; services: Record<string, string[]>; logger: Logger }): Router {
  const { injector, adminToken, services, logger } = options;
  const agent = new Agent({ connections: 16, headersTimeout: 2_000, bodyTimeout: 2_000 });
  const router = Router();
  router.use(requireAdminToken(adminToken));
  // The gateway's own CPU profile (GET /admin/profile/cpu); services are profiled at their own address.
  router.use(cpuProfileRoutes());

  const instancesOf = (service: string): string[] => {
    // Own names only: `constructor` or `__proto__` must not resolve to Object.prototype's members.
    const urls = Object.hasOwn(services, service) ? services[service] : undefined;
    if (!urls) throw new AppError('not_found', 'ADMIN.UNKNOWN_SERVICE', `no service named ${service}`, { details: { services: [GATEWAY, ...Object.keys(services)] } });
    return urls;
  };

  async function call(url: string, method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<Answer> {
    const answer = await request(`${url}/admin${path}`, {
      method,
      headers: { 'x-admin-token': adminToken ?? '', ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: body !== undefined ? JSON.stringify(body) : null,
      dispatcher: agent,
      signal: AbortSignal.timeout(2_000),
    });
    const text = await answer.body.text();
    return { status: answer.statusCode, body: text ? (JSON.parse(text) as unknown) : undefined };
  }

  /** Runs `path` on every instance of every service (or of the one named); failures are reported, not thrown. */
  async function fanOut(method: 'GET' | 'DELETE', path: string, only?: string) {
    const targets = Object.entries(services)
      .filter(([name]) => only === undefined || name === only)
      .flatMap(([service, urls]) => urls.map((url) => ({ service, url })));
    return Promise.all(
      targets.map(async (target) => {
        try {
          return { ...target, answer: await call(target.url, method, path) };
        } catch (err) {
          logger.warn({ service: target.service, instance: target.url, err: String(err) }, 'admin call to service failed');
          return { ...target, answer: undefined };
        }
      }),
    );
  }

  const consumers =
    (action: 'pause' | 'resume'): RequestHandler =>
    async (req, res) => {
      const { service } = parseInput(consumersBodySchema, req.body, 'request');
      if (service === GATEWAY) throw new AppError('not_found', 'ADMIN.NO_CONSUMERS', 'the gateway has no consumers');
      const answers: Answer[] = [];
      for (const url of instancesOf(service)) answers.push(await call(url, 'POST', `/consumers/${action}`, {}));
      const first = answers[0] as Answer;
      res.status(first.status).json(first.body);
    };

  /** One handler per ADMIN_ROUTES entry: a route missing here, or a handler without a route, fails to compile. */
  const handlers: Record<AdminOperationId, RequestHandler> = {
    injectFault: async (req, res) => {
      const spec = parseInput(faultSpecSchema, req.body, 'fault');
      const service = spec.service ?? GATEWAY;
      if (service === GATEWAY) {
        res.status(201).json(injector.inject(spec));
        return;
      }
      const answers: Answer[] = [];
      for (const url of instancesOf(service)) answers.push(await call(url, 'POST', '/faults', spec));
      const first = answers[0] as Answer;
      res.status(first.status).json(first.body);
    },

    listFaults: async (_req, res) => {
      const items: Fault[] = [...injector.list()];
      const unreachable: string[] = [];
      for (const { service, answer } of await fanOut('GET', '/faults')) {
        const listed = (answer?.body as { items?: Fault[] } | undefined)?.items;
        if (answer?.status === 200 && Array.isArray(listed)) items.push(...listed);
        else unreachable.push(service);
      }
      res.json({ items, ...(unreachable.length > 0 ? { unreachable } : {}) });
    },

    clearFaults: async (req, res) => {
      const { service } = parseInput(serviceQuerySchema, req.query, 'query');
      if (service === undefined || service === GATEWAY) injector.clearAll();
      if (service !== GATEWAY) {
        if (service !== undefined) instancesOf(service);
        await fanOut('DELETE', '/faults', service);
      }
      res.status(204).end();
    },

    clearFault: async (req, res) => {
      const { service } = parseInput(serviceQuerySchema, req.query, 'query');
      const id = faultIdSchema.safeParse(req.params.id);
      if (!id.success) throw new AppError('not_found', 'FAULT.NOT_FOUND', 'no such active fault');
      let cleared = (service === undefined || service === GATEWAY) && injector.clear(id.data);
      if (!cleared && service !== GATEWAY) {
        if (service !== undefined) instancesOf(service);
        const answers = await fanOut('DELETE', `/faults/${id.data}`, service);
        cleared = answers.some((a) => a.answer?.status === 204);
      }
      if (!cleared) throw new AppError('not_found', 'FAULT.NOT_FOUND', 'no such active fault');
      res.status(204).end();
    },

    pauseConsumers: consumers('pause'),
    resumeConsumers: consumers('resume'),
  };

  for (const route of ADMIN_ROUTES) router[route.method](route.path, handlers[route.operationId]);
  return router;
}
