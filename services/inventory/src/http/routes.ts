import { Router } from 'express';
import { parseInput } from '@tracemart/platform';
import { productIdSchema } from '@tracemart/contracts';
import type { InventoryDeps } from '../dependencies';
import { getStock } from '../use-cases/get-stock';

export function inventoryRoutes(deps: InventoryDeps): Router {
  const router = Router();
  /** `GET /inventory/:productId`: units available and reserved. */
  router.get('/inventory/:productId', async (req, res) => {
    const productId = parseInput(productIdSchema, req.params.productId, 'product id');
    res.json(await getStock(deps, productId));
  });
  return router;
}
