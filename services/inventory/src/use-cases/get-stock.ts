import { AppError } from '@tracemart/platform';
import type { InventoryDeps } from '../dependencies';

/** One product's stock: units available to order and units held for orders not yet confirmed. */
export async function getStock({ stock }: InventoryDeps, productId: string) {
  const found = await stock.get(productId);
  if (!found) throw new AppError('not_found', 'INVENTORY.NOT_FOUND', `no stock record for ${productId}`);
  return { productId, available: found.available, reserved: found.reserved };
}
