import type { Db, Filter } from '@tracemart/platform';
import type { SeedProduct } from '@tracemart/catalog-seed';

export interface Product {
  id: string;
  name: string;
  description: string;
  category: string;
  priceCents: number;
}

interface ProductDocument extends Omit<Product, 'id'> {
  _id: string;
}

const toProduct = ({ _id, name, description, category, priceCents }: ProductDocument): Product => ({ id: _id, name, description, category, priceCents });
const escapeRegex = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export interface ProductQuery {
  search?: string | undefined;
  category?: string | undefined;
  ids?: string[] | undefined;
  page: number;
  limit: number;
}

export type ProductRepository = Awaited<ReturnType<typeof createProductRepository>>;

export async function createProductRepository(db: Db) {
  const products = db.collection<ProductDocument>('products');
  await products.createIndex({ category: 1 });
  return {
    /** Idempotent: inserts the products that are missing and leaves existing ones alone. */
    async seed(seed: readonly SeedProduct[]): Promise<number> {
      // Only the missing ones: FerretDB v1.24 on PostgreSQL holds a connection for every statement of an update
      // command that matches a document until the command ends, and past its pool (50) waits forever.
      const existing = new Set((await products.find({}, { projection: { _id: 1 } }).toArray()).map((doc) => doc._id));
      const missing = seed.filter(({ id }) => !existing.has(id));
      if (missing.length === 0) return 0;
      const result = await products.bulkWrite(
        missing.map(({ id, name, description, category, priceCents }) => ({
          updateOne: { filter: { _id: id }, update: { $setOnInsert: { name, description, category, priceCents } }, upsert: true },
        })),
        { ordered: false },
      );
      return result.upsertedCount;
    },
    async list(query: ProductQuery): Promise<{ items: Product[]; total: number }> {
      const filter: Filter<ProductDocument> = {};
      if (query.category) filter.category = query.category;
      if (query.search) filter.name = { $regex: escapeRegex(query.search), $options: 'i' };
      if (query.ids) filter._id = { $in: query.ids };
      const [docs, total] = await Promise.all([
        products
          .find(filter)
          .sort({ _id: 1 })
          .skip((query.page - 1) * query.limit)
          .limit(query.limit)
          .toArray(),
        products.countDocuments(filter),
      ]);
      return { items: docs.map(toProduct), total };
    },
    async get(id: string): Promise<Product | undefined> {
      const doc = await products.findOne({ _id: id });
      return doc ? toProduct(doc) : undefined;
    },
  };
}
