import { Router, type Request } from 'express';
import { z } from 'zod';
import { AppError, parseIdempotencyKey, parseInput, requireCaller } from '@tracemart/platform';
import { placeOrderBodySchema } from '@tracemart/contracts';
import type { OrderDeps } from '../dependencies';
import { getOrder } from '../use-cases/get-order';
import { getOrderHistory } from '../use-cases/get-order-history';
import { listOrders } from '../use-cases/list-orders';
import { placeOrder } from '../use-cases/place-order';

const orderIdSchema = z.uuid();
const asOfSchema = z.object({ asOf: z.iso.datetime({ offset: true }).optional() });

/** An order id that is not a uuid cannot exist: answer 404, as for another user's order. */
function orderId(req: Request): string {
  const parsed = orderIdSchema.safeParse(req.params.id);
  if (!parsed.success) throw new AppError('not_found', 'ORDER.NOT_FOUND', 'no such order');
  return parsed.data;
}

export function orderRoutes(deps: OrderDeps): Router {
  const router = Router();

  router.post('/orders', async (req, res) => {
    const userId = requireCaller(req);
    const body = parseInput(placeOrderBodySchema, req.body, 'order');
    const idempotencyKey = parseIdempotencyKey(req.header('idempotency-key'));
    const { order, replayed } = await placeOrder(deps, { userId, body, idempotencyKey });
    if (replayed) res.setHeader('idempotent-replayed', 'true');
    res.status(202).location(`/api/orders/${order.id}`).json(order);
  });

  router.get('/orders', async (req, res) => {
    // Served from the CQRS read model: eventually consistent, usually within milliseconds.
    res.json({ items: await listOrders(deps, requireCaller(req)) });
  });

  router.get('/orders/:id', async (req, res) => {
    const userId = requireCaller(req);
    const { asOf } = parseInput(asOfSchema, req.query, 'query');
    res.json(await getOrder(deps, { userId, orderId: orderId(req), asOf: asOf ? new Date(asOf) : undefined }));
  });

  router.get('/orders/:id/history', async (req, res) => {
    res.json({ items: await getOrderHistory(deps, { userId: requireCaller(req), orderId: orderId(req) }) });
  });

  return router;
}
