import { isDuplicateKeyError, type Db, type Filter } from '@tracemart/platform';
import type { Product } from '../domain/product';
import type { PageWindow, ProductFilter } from '../domain/product-query';

interface ProductDocument extends Omit<Product, 'id'> {
  _id: string;
}

const toProduct = ({ _id, name, description, category, priceCents }: ProductDocument): Product => ({ id: _id, name, description, category, priceCents });

function toMongoFilter(filter: ProductFilter): Filter<ProductDocument> {
  return {
    ...(filter.category !== undefined ? { category: filter.category } : {}),
    ...(filter.namePattern !== undefined ? { name: { $regex: filter.namePattern, $options: 'i' } } : {}),
    ...(filter.ids !== undefined ? { _id: { $in: filter.ids } } : {}),
  };
}

/** The products collection: one document per product, keyed by its id. */
export async function createProductStore(db: Db) {
  const products = db.collection<ProductDocument>('products');
  await products.createIndex({ category: 1 });
  return {
    /** The ids of every product held. */
    async ids(): Promise<Set<string>> {
      return new Set((await products.find({}, { projection: { _id: 1 } }).toArray()).map((doc) => doc._id));
    },
    /**
     * Inserts products not held yet (an insert-only upsert, so one that appeared meanwhile is left alone); returns how
     * many were inserted. Callers pass only the missing ones: FerretDB v1.24 on PostgreSQL holds a connection for every
     * statement of an update command that matches a document until the command ends, and past its pool (50) waits forever.
     */
    async insertMissing(missing: readonly Product[]): Promise<number> {
      if (missing.length === 0) return 0;
      try {
        const result = await products.bulkWrite(
          missing.map(({ id, name, description, category, priceCents }) => ({
            updateOne: { filter: { _id: id }, update: { $setOnInsert: { name, description, category, priceCents } }, upsert: true },
          })),
          { ordered: false },
        );
        return result.upsertedCount;
      } catch (err) {
        // Two instances seeding at once: the other one's upsert of a product won (unordered: the rest went in).
        if (!isDuplicateKeyError(err)) throw err;
        return 0;
      }
    },
    /** One page of the matching products, ordered by id, and how many match in all. */
    async list(filter: ProductFilter, window: PageWindow): Promise<{ items: Product[]; total: number }> {
      const where = toMongoFilter(filter);
      const [docs, total] = await Promise.all([products.find(where).sort({ _id: 1 }).skip(window.skip).limit(window.limit).toArray(), products.countDocuments(where)]);
      return { items: docs.map(toProduct), total };
    },
    async get(id: string): Promise<Product | undefined> {
      const doc = await products.findOne({ _id: id });
      return doc ? toProduct(doc) : undefined;
    },
  };
}
export type ProductStore = Awaited<ReturnType<typeof createProductStore>>;
