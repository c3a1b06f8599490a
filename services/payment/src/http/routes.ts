import { Router } from 'express';
import { z } from 'zod';
import { parseInput, requireCaller } from '@tracemart/platform';
import type { PaymentDeps } from '../dependencies';
import { getLedger } from '../use-cases/get-ledger';

const querySchema = z.object({ asOf: z.iso.datetime({ offset: true }).optional() });

export function paymentRoutes(deps: PaymentDeps): Router {
  const router = Router();
  /**
   * `GET /payments/health`: the processor breaker's state. The gateway polls it to fail checkout fast while
   * payments cannot be taken (checkout itself is asynchronous, so the gateway never sees the charge).
   */
  router.get('/payments/health', (_req, res) => {
    res.setHeader('cache-control', 'no-store');
    res.json({ processor: deps.processor.state() });
  });
  /** `GET /payments/:orderId/ledger?asOf=`: the order's money movements and their balance. */
  router.get('/payments/:orderId/ledger', async (req, res) => {
    const userId = requireCaller(req);
    const { asOf } = parseInput(querySchema, req.query, 'query');
    res.json(await getLedger(deps, { userId, orderId: String(req.params.orderId), ...(asOf ? { asOf: new Date(asOf) } : {}) }));
  });
  return router;
}
