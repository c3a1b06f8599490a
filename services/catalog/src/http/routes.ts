import { Router } from 'express';
import { parseInput } from '@tracemart/platform';
import { productIdSchema, productQuerySchema } from '@tracemart/contracts';
import type { CatalogDeps } from '../dependencies';
import { getProduct } from '../use-cases/get-product';
import { listProducts } from '../use-cases/list-products';

export function productRoutes(deps: CatalogDeps): Router {
  const router = Router();

  /** `GET /products?search=&category=&ids=a,b&page=&limit=`: a page of products and the number of matches. */
  router.get('/products', async (req, res) => {
    const query = parseInput(productQuerySchema, req.query, 'query');
    const ids = query.ids ? query.ids.split(',').map((id) => parseInput(productIdSchema, id, 'ids')) : undefined;
    res.json(await listProducts(deps, { ...query, ids }));
  });

  /** `GET /products/:id`: one product, or 404. */
  router.get('/products/:id', async (req, res) => {
    const id = parseInput(productIdSchema, req.params.id, 'product id');
    res.json(await getProduct(deps, id));
  });

  return router;
}
