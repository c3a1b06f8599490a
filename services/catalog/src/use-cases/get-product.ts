import { AppError } from '@tracemart/platform';
import type { Product } from '../domain/product';
import type { CatalogDeps } from '../dependencies';

export async function getProduct({ products }: CatalogDeps, id: string): Promise<Product> {
  const product = await products.get(id);
  if (!product) throw new AppError('not_found', 'PRODUCT.NOT_FOUND', `no product ${id}`);
  return product;
}
