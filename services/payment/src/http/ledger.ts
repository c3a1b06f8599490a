import { Router } from 'express';
import { z } from 'zod';
import { AppError, parseInput } from '@tracemart/platform';
import { USER_ID_HEADER } from '@tracemart/contracts';
import type { PaymentStore } from '../data/payments';
import type { Ledger } from '../data/ledger';
import { replayLedger } from '../domain/ledger';

const querySchema = z.object({ asOf: z.iso.datetime({ offset: true }).optional() });

/** GET /payments/:orderId/ledger?asOf=: the order's money movements and the balance they add up to. */
export function ledgerRoutes(deps: { store: PaymentStore; ledger: Ledger }): Router {
  const router = Router();
  router.get('/:orderId/ledger', async (req, res) => {
    const userId = req.header(USER_ID_HEADER);
    if (!userId) throw new AppError('unauthenticated', 'AUTH.REQUIRED', 'authentication required');
    const { asOf } = parseInput(querySchema, req.query, 'query');
    const orderId = String(req.params.orderId);
    const payment = /^[\w-]{1,64}$/.test(orderId) ? await deps.store.get(orderId) : null;
    if (!payment || payment.userId !== userId) throw new AppError('not_found', 'PAYMENT.NOT_FOUND', 'no such payment');
    const docs = await deps.ledger.load(orderId);
    const at = asOf ? new Date(asOf) : undefined;
    const state = replayLedger(deps.ledger.toEntries(docs), at);
    res.json({
      orderId,
      paymentId: payment.paymentId,
      asOf: at?.toISOString() ?? null,
      status: state.status,
      balanceCents: state.balanceCents,
      entries: docs
        .filter((doc) => !at || doc.at.getTime() <= at.getTime())
        .map((doc) => ({ type: doc.type, amountCents: doc.amountCents, version: doc.version, at: doc.at.toISOString(), traceId: doc.traceId ?? null })),
    });
  });
  return router;
}
