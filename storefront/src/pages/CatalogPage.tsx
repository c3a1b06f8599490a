import { useEffect, useState, type FormEvent } from 'react';
import { Link, useLocation, useSearch } from 'wouter';
import { call } from '../lib/api';
import { addToCart } from '../lib/cart';
import { formatCents } from '../lib/format';
import { cartStore } from '../lib/session';
import type { ProductPage } from '../lib/types';
import { ErrorNotice } from '../components/ErrorNotice';
import { useLoad } from '../components/use-load';

const PAGE_SIZE = 12;

/** The catalog: search, category and page live in the URL (`/?search=&category=&page=`), so they can be shared. */
export function CatalogPage() {
  const search = new URLSearchParams(useSearch());
  const [, navigate] = useLocation();
  const query = search.get('search') ?? '';
  const category = search.get('category') ?? '';
  const page = Math.max(1, Number(search.get('page')) || 1);
  const [draft, setDraft] = useState(query);
  useEffect(() => setDraft(query), [query]);

  const go = (next: { search?: string; category?: string; page?: number }) => {
    const params = new URLSearchParams();
    const s = next.search ?? query;
    const c = next.category ?? category;
    const p = next.page ?? 1;
    if (s) params.set('search', s);
    if (c) params.set('category', c);
    if (p > 1) params.set('page', String(p));
    const qs = params.toString();
    navigate(qs ? `/?${qs}` : '/');
  };

  // Categories: the distinct ones of the whole catalog (one page of the maximum size holds the demo's 60 products).
  const categories = useLoad(async (signal) => {
    const answer = await call<ProductPage>('/api/products?limit=100', { signal });
    return [...new Set(answer.body.items.map((p) => p.category))].sort();
  }, []);

  const products = useLoad(
    async (signal) => {
      const params = new URLSearchParams({ page: String(page), limit: String(PAGE_SIZE) });
      if (query) params.set('search', query);
      if (category) params.set('category', category);
      return (await call<ProductPage>(`/api/products?${params.toString()}`, { signal })).body;
    },
    [query, category, page],
  );
  const pages = products.data ? Math.max(1, Math.ceil(products.data.total / PAGE_SIZE)) : 1;

  const onSearch = (event: FormEvent) => {
    event.preventDefault();
    go({ search: draft.trim() });
  };

  return (
    <section aria-labelledby="catalog-title">
      <h1 id="catalog-title">Catalog</h1>
      <form className="filters" role="search" onSubmit={onSearch}>
        <label>
          Search
          <input type="search" name="search" value={draft} onChange={(e) => setDraft(e.target.value)} placeholder="e.g. kettle" maxLength={100} />
        </label>
        <label>
          Category
          <select name="category" value={category} onChange={(e) => go({ category: e.target.value })}>
            <option value="">All</option>
            {(categories.data ?? []).map((c) => (
              <option key={c} value={c}>
                {c}
              </option>
            ))}
          </select>
        </label>
        <button type="submit">Search</button>
      </form>
      {products.error !== undefined && <ErrorNotice error={products.error} retryAt={products.retryAt} onRetry={products.reload} />}
      {products.data && (
        <>
          <p className="muted" aria-live="polite">
            {products.data.total === 1 ? '1 product' : `${products.data.total} products`}
            {query && ` matching “${query}”`}
            {category && ` in ${category}`}
          </p>
          <ul className="grid" data-testid="products">
            {products.data.items.map((product) => (
              <li key={product.id} className="card" data-testid="product" data-product-id={product.id}>
                <Link href={`/products/${product.id}`}>
                  <strong>{product.name}</strong>
                </Link>
                <span className="muted">{product.category}</span>
                <span>{product.description}</span>
                <span className="price">{formatCents(product.priceCents)}</span>
                <button type="button" onClick={() => cartStore.set(addToCart(cartStore.get(), product))} aria-label={`Add ${product.name} to cart`}>
                  Add to cart
                </button>
              </li>
            ))}
          </ul>
          <nav className="pager" aria-label="Pages">
            <button type="button" disabled={page <= 1} onClick={() => go({ page: page - 1 })}>
              Previous
            </button>
            <span>
              Page {page} of {pages}
            </span>
            <button type="button" disabled={page >= pages} onClick={() => go({ page: page + 1 })}>
              Next
            </button>
          </nav>
        </>
      )}
      {products.loading && !products.data && <p className="muted">Loading…</p>}
    </section>
  );
}
