import { AppError } from '@tracemart/platform';
import type { PricedProduct } from './domain/order';

/**
 * Prices come from the catalog, reached through the gateway's public API (services talk only through
 * the gateway or the bus; the order service never reads the catalog's database).
 */
export function createCatalogClient(options: { gatewayUrl: string; timeoutMs: number }) {
  return {
    async getProducts(ids: readonly string[]): Promise<Map<string, PricedProduct>> {
      const url = new URL('/api/products', options.gatewayUrl);
      url.searchParams.set('ids', [...new Set(ids)].join(','));
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
      return new Map(body.items.map((product) => [product.id, { id: product.id, name: product.name, priceCents: product.priceCents }]));
    },
  };
}
export type CatalogClient = ReturnType<typeof createCatalogClient>;
