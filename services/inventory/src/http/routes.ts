import { Router } from 'express';
import { AppError, parseInput } from '@tracemart/platform';
import { productIdSchema } from '@tracemart/contracts';
import type { StockStore } from '../data/stock';

export function inventoryRoutes(store: StockStore): Router {
  const router = Router();
  router.get('/:productId', async (req, res) => {
    const productId = parseInput(productIdSchema, req.params.productId, 'product id');
    const stock = await store.get(productId);
    if (!stock) throw new AppError('not_found', 'INVENTORY.NOT_FOUND', `no stock record for ${productId}`);
    res.json({ productId, available: stock.available, reserved: stock.reserved });
  });
  return router;
}
