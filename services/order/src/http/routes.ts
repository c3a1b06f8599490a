import { Router, type Request } from 'express';
import { z } from 'zod';
import { AppError, parseIdempotencyKey, parseInput } from '@tracemart/platform';
import { placeOrderBodySchema, USER_ID_HEADER } from '@tracemart/contracts';
import type { OrderProjector } from '../projections/projector';
import type { OrderUseCases } from '../use-cases';

const orderIdSchema = z.uuid();
const asOfSchema = z.object({ asOf: z.iso.datetime({ offset: true }).optional() });

function callerId(req: Request): string {
  const userId = req.header(USER_ID_HEADER);
  if (!userId) throw new AppError('unauthenticated', 'AUTH.REQUIRED', 'authentication required');
  return userId;
}

/** An order id that is not a uuid cannot exist: answer 404, as for another user's order. */
function orderId(req: Request): string {
  const parsed = orderIdSchema.safeParse(req.params.id);
  if (!parsed.success) throw new AppError('not_found', 'ORDER.NOT_FOUND', 'no such order');
  return parsed.data;
}

export function orderRoutes(orders: OrderUseCases, summaries: OrderProjector): Router {
  const router = Router();

  router.post('/', async (req, res) => {
    const userId = callerId(req);
    const body = parseInput(placeOrderBodySchema, req.body, 'order');
    const key = parseIdempotencyKey(req.header('idempotency-key'));
    const { order, replayed } = await orders.placeOrder(userId, body, key);
    if (replayed) res.setHeader('idempotent-replayed', 'true');
    res.status(202).location(`/api/orders/${order.id}`).json(order);
  });

  router.get('/', async (req, res) => {
    // Served from the CQRS read model: eventually consistent, usually within milliseconds.
    res.json({ items: await summaries.listFor(callerId(req)) });
  });

  router.get('/:id', async (req, res) => {
    const userId = callerId(req);
    const { asOf } = parseInput(asOfSchema, req.query, 'query');
    res.json(await orders.getOrder(userId, orderId(req), asOf ? new Date(asOf) : undefined));
  });

  router.get('/:id/history', async (req, res) => {
    res.json({ items: await orders.history(callerId(req), orderId(req)) });
  });

  return router;
}
