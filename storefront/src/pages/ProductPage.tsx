import { useState } from 'react';
import { Link } from 'wouter';
import { call } from '../lib/api';
import { addToCart, MAX_QUANTITY_PER_LINE } from '../lib/cart';
import { formatCents } from '../lib/format';
import { cartStore } from '../lib/session';
import type { Product, Stock } from '../lib/types';
import { ErrorNotice } from '../components/ErrorNotice';
import { useLoad } from '../components/use-load';

/** One product, with its stock refreshed every two seconds (the saga reserves and releases it live). */
export function ProductPage({ id }: { id: string }) {
  const product = useLoad(async (signal) => (await call<Product>(`/api/products/${encodeURIComponent(id)}`, { signal })).body, [id]);
  const stock = useLoad(async (signal) => (await call<Stock>(`/api/inventory/${encodeURIComponent(id)}`, { signal })).body, [id], {
    pollMs: 2_000,
    keepPolling: () => true,
    maxPolls: 300,
  });
  const [quantity, setQuantity] = useState(1);
  const [added, setAdded] = useState(false);

  if (product.error !== undefined) return <ErrorNotice error={product.error} retryAt={product.retryAt} onRetry={product.reload} />;
  if (!product.data) return <p className="muted">Loading…</p>;
  const p = product.data;
  return (
    <article aria-labelledby="product-title">
      <p>
        <Link href="/">← Catalog</Link>
      </p>
      <h1 id="product-title">{p.name}</h1>
      <p className="muted">{p.category}</p>
      <p>{p.description}</p>
      <p className="price">{formatCents(p.priceCents)}</p>
      <p aria-live="polite" data-testid="stock">
        {stock.data ? (
          <>
            In stock: <strong data-testid="stock-available">{stock.data.available}</strong>
            {stock.data.reserved > 0 && <span className="muted"> ({stock.data.reserved} held by pending orders)</span>}
          </>
        ) : stock.error !== undefined ? (
          <span className="muted">Stock is unknown right now.</span>
        ) : (
          <span className="muted">Checking stock…</span>
        )}
      </p>
      <form
        className="row"
        onSubmit={(e) => {
          e.preventDefault();
          cartStore.set(addToCart(cartStore.get(), p, quantity));
          setAdded(true);
        }}
      >
        <label>
          Quantity
          <input type="number" min={1} max={MAX_QUANTITY_PER_LINE} value={quantity} onChange={(e) => setQuantity(Math.max(1, Number(e.target.value) || 1))} />
        </label>
        <button type="submit">Add to cart</button>
      </form>
      {added && (
        <p role="status">
          Added. <Link href="/cart">Go to cart</Link>
        </p>
      )}
    </article>
  );
}
