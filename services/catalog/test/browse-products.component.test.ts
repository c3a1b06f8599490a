import { describe, expect, it } from 'vitest';
import { useComponent } from '@tracemart/testing';
import { catalogModule } from '../src/module';

interface Product {
  id: string;
  name: string;
  description: string;
  category: string;
  priceCents: number;
}
type Page = { items: Product[]; total: number };
type ErrorBody = { error: { code: string; message: string } };

const catalog = useComponent(catalogModule);

const products = () => catalog.db.collection<{ _id: string; priceCents: number }>('products');
const list = (query: string) => catalog.api.get<Page>(`/products?${query}`);

describe('seeding', () => {
  it('when the service starts on an empty database, then at least 50 products in at least 5 categories are listed', async () => {
    const all = await list('limit=100');
    expect(all.status).toBe(200);
    expect(all.body.total).toBeGreaterThanOrEqual(50);
    expect(all.body.items).toHaveLength(all.body.total);
    expect(new Set(all.body.items.map((p) => p.category)).size).toBeGreaterThanOrEqual(5);
    for (const product of all.body.items) {
      expect(product).toEqual({ id: expect.any(String), name: expect.any(String), description: expect.any(String), category: expect.any(String), priceCents: expect.any(Number) });
      expect(product.priceCents).toBeGreaterThan(0);
    }
  });

  it('when the service starts again on the same database, then nothing is duplicated, missing products return and existing ones are left alone', async () => {
    const before = (await list('limit=100')).body;
    const [edited, deleted] = before.items;
    if (!edited || !deleted) throw new Error('catalog too small');
    await products().updateOne({ _id: edited.id }, { $set: { priceCents: 1 } });
    await products().deleteOne({ _id: deleted.id });

    await catalog.restart();

    const after = (await list('limit=100')).body;
    expect(after.total).toBe(before.total);
    expect(await products().countDocuments()).toBe(before.total);
    expect(new Set(after.items.map((p) => p.id)).size).toBe(before.total);
    expect(after.items.find((p) => p.id === deleted.id)).toEqual(deleted);
    expect(after.items.find((p) => p.id === edited.id)?.priceCents).toBe(1);
  });
});

describe('search', () => {
  it('when searching in another letter case, then matching names are found', async () => {
    const lower = await list('search=espresso');
    const upper = await list('search=ESPRESSO');
    expect(lower.body.total).toBeGreaterThan(0);
    expect(upper.body).toEqual(lower.body);
    for (const product of upper.body.items) expect(product.name.toLowerCase()).toContain('espresso');
  });

  it('when the search holds regex characters, then they match literally', async () => {
    const dotStar = await list(`search=${encodeURIComponent('.*')}`);
    expect(dotStar.status).toBe(200);
    expect(dotStar.body).toEqual({ items: [], total: 0 });

    const parenthesis = await list(`search=${encodeURIComponent('Filters (')}`);
    expect(parenthesis.status).toBe(200);
    expect(parenthesis.body.items.map((p) => p.name)).toEqual(['Paper Filters (100)']);

    const group = await list(`search=${encodeURIComponent('(100)')}`);
    expect(group.body.items.map((p) => p.name)).toEqual(['Paper Filters (100)']);
  });

  it('when filtering by category, then only that category is listed', async () => {
    const books = await list('category=books&limit=100');
    expect(books.body.total).toBeGreaterThan(0);
    expect(new Set(books.body.items.map((p) => p.category))).toEqual(new Set(['books']));
  });
});

describe('paging', () => {
  it('when paging with a limit, then pages are disjoint, ordered and add up to the total', async () => {
    const all = (await list('limit=100')).body;
    const seen: string[] = [];
    for (let page = 1; seen.length < all.total; page += 1) {
      const response = await list(`page=${page}&limit=7`);
      expect(response.body.total).toBe(all.total);
      expect(response.body.items.length).toBe(Math.min(7, all.total - seen.length));
      seen.push(...response.body.items.map((p) => p.id));
    }
    expect(seen).toEqual(all.items.map((p) => p.id));
    expect((await list('page=1000&limit=7')).body).toEqual({ items: [], total: all.total });
  });

  it('when no limit is given, then a page of 20 is answered', async () => {
    expect((await list('')).body.items).toHaveLength(20);
  });

  it.each(['limit=1000', 'limit=101', 'limit=0', 'limit=-1', 'limit=abc', 'page=0', 'search=' + 'x'.repeat(101)])(
    'when the query has %s, then 400 with a JSON error',
    async (query) => {
      const response = await catalog.api.get<ErrorBody>(`/products?${query}`);
      expect(response.status).toBe(400);
      expect(response.body.error).toEqual(expect.objectContaining({ code: 'REQUEST.VALIDATION_FAILED', message: expect.any(String) }));
    },
  );
});

describe('lookup', () => {
  it('when a product id exists, then it is answered', async () => {
    const [first] = (await list('limit=1')).body.items;
    if (!first) throw new Error('empty catalog');
    const response = await catalog.api.get<Product>(`/products/${first.id}`);
    expect(response.status).toBe(200);
    expect(response.body).toEqual(first);
  });

  it('when a product id is unknown, then 404 PRODUCT.NOT_FOUND', async () => {
    const response = await catalog.api.get<ErrorBody>('/products/no-such-product');
    expect(response.status).toBe(404);
    expect(response.body.error.code).toBe('PRODUCT.NOT_FOUND');
  });

  it('when listing with ids=, then exactly those products are answered, unknown ids are skipped', async () => {
    const all = (await list('limit=100')).body.items;
    const wanted = [all[3], all[17], all[42]].map((p) => p?.id ?? '');
    const response = await list(`ids=${[...wanted, 'no-such-product'].join(',')}&limit=100`);
    expect(response.status).toBe(200);
    expect(response.body.total).toBe(3);
    expect(response.body.items.map((p) => p.id).sort()).toEqual([...wanted].sort());
  });

  it('when ids= holds something that is not a product id, then 400', async () => {
    const response = await list(`ids=${encodeURIComponent('good-id,BAD ID')}`);
    expect(response.status).toBe(400);
  });
});
