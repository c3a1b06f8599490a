import { Router } from 'express';
import { AppError, parseInput } from '@tracemart/platform';
import { productIdSchema, productQuerySchema } from '@tracemart/contracts';
import type { ProductRepository } from '../data/products';

export function productRoutes(products: ProductRepository): Router {
  const router = Router();

  router.get('/', async (req, res) => {
    const query = parseInput(productQuerySchema, req.query, 'query');
    const ids = query.ids ? query.ids.split(',').map((id) => parseInput(productIdSchema, id, 'ids')) : undefined;
    res.json(await products.list({ ...query, ids }));
  });

  router.get('/:id', async (req, res) => {
    const id = parseInput(productIdSchema, req.params.id, 'product id');
    const product = await products.get(id);
    if (!product) throw new AppError('not_found', 'PRODUCT.NOT_FOUND', `no product ${id}`);
    res.json(product);
  });

  return router;
}
