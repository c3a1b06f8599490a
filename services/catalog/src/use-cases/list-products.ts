import type { Product } from '../domain/product';
import { pageWindow, productFilter, type ProductQuery } from '../domain/product-query';
import type { CatalogDeps } from '../dependencies';

/** One page of the products matching a search, a category and/or a list of ids, with the number of matches. */
export function listProducts({ products }: CatalogDeps, query: ProductQuery): Promise<{ items: Product[]; total: number }> {
  return products.list(productFilter(query), pageWindow(query));
}
