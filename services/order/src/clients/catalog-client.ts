import { AppError } from '@tracemart/platform';
import type { PricedProduct } from '../domain/order';

/**
 * Prices come from the catalog, reached through the gateway's public API (services talk only through
 * the gateway or the bus; the order service never reads the catalog's database). A product's name and price are
 * kept for `cacheTtlMs` (a cache-aside read): most checkouts need no call at all, and a price change reaches new
 * orders within that time. 0 turns the cache off.
 */
export function createCatalogClient(options: { gatewayUrl: string; timeoutMs: number; cacheTtlMs: number; now?: () => number }) {
  const now = options.now ?? Date.now;
  const cache = new Map<string, { product: PricedProduct; until: number }>();
  return {
    async getProducts(ids: readonly string[]): Promise<Map<string, PricedProduct>> {
      const found = new Map<string, PricedProduct>();
      const missing: string[] = [];
      for (const id of new Set(ids)) {
        const cached = cache.get(id);
        if (cached && cached.until > now()) found.set(id, cached.product);
        else missing.push(id);
      }
      if (missing.length === 0) return found;
      for (const product of await fetchProducts(missing)) {
        found.set(product.id, product);
        if (options.cacheTtlMs > 0) cache.set(product.id, { product, until: now() + options.cacheTtlMs });
      }
      return found;
    },
  };

  async function fetchProducts(ids: readonly string[]): Promise<PricedProduct[]> {
    const url = new URL('/api/products', options.gatewayUrl);
    url.searchParams.set('ids', ids.join(','));
    url.searchParams.set('limit', '100');
    let response: Response;
    try {
      response = await fetch(url, { signal: AbortSignal.timeout(options.timeoutMs), headers: { accept: 'application/json' } });
    } catch (err) {
      throw new AppError('unavailable', 'CATALOG.UNAVAILABLE', 'the catalog is unavailable, try again shortly', { cause: err, retryAfterSeconds: 2 });
    }
    if (!response.ok) {
      throw new AppError('unavailable', 'CATALOG.UNAVAILABLE', `the catalog answered ${response.status}`, { retryAfterSeconds: 2 });
    }
    const body = (await response.json()) as { items: PricedProduct[] };
    return body.items.map((product) => ({ id: product.id, name: product.name, priceCents: product.priceCents }));
  }
}
export type CatalogClient = ReturnType<typeof createCatalogClient>;
