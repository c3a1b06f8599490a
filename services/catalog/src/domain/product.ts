/** A product as the catalog lists it. */
export interface Product {
  id: string;
  name: string;
  description: string;
  category: string;
  priceCents: number;
}

/**
 * Seeding is idempotent: of the seed list, the products the catalog does not hold yet, as catalog entries. The ones
 * it holds are left alone, edited or not.
 */
export function missingProducts(seed: readonly Product[], existingIds: ReadonlySet<string>): Product[] {
  return seed.filter(({ id }) => !existingIds.has(id)).map(({ id, name, description, category, priceCents }) => ({ id, name, description, category, priceCents }));
}
