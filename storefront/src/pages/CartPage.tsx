import { useMemo, useRef, useState } from 'react';
import { Link, useLocation } from 'wouter';
import { call } from '../lib/api';
import { ApiError } from '../lib/api-error';
import { cartSignature, cartTotalCents, orderItems, setQuantity, MAX_QUANTITY_PER_LINE } from '../lib/cart';
import { newCheckoutKey } from '../lib/checkout-key';
import { formatCents } from '../lib/format';
import { cartStore, useCart, useSession } from '../lib/session';
import { PAYMENT_TOKENS, type Order, type PaymentToken } from '../lib/types';
import { inRootSpan, recordedTraceId } from '../tracing';
import { ErrorNotice, retryAtOf } from '../components/ErrorNotice';
import { useCountdown } from '../components/use-countdown';

const CARD_LABELS: Record<PaymentToken, string> = {
  tok_visa: 'Test card that pays (tok_visa)',
  tok_chargeDeclined: 'Test card that is declined (tok_chargeDeclined)',
};

/** The cart and checkout: one click on *Place order* is one `checkout` trace, one Idempotency-Key, one order. */
export function CartPage() {
  const cart = useCart();
  const session = useSession();
  const [, navigate] = useLocation();
  const [card, setCard] = useState<PaymentToken>('tok_visa');
  const [attempt, setAttempt] = useState(0);
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<{ error: unknown; retryAt: number | undefined } | undefined>();
  const inFlight = useRef(false);
  // Retry-After: the button waits as long as the server asked.
  const wait = useCountdown(failure?.retryAt);
  const signature = cartSignature(cart, card);
  // A new attempt (and key) whenever what would be ordered changes, or after an order was placed.
  const key = useMemo(() => newCheckoutKey(), [signature, attempt]);

  const placeOrder = async () => {
    if (inFlight.current || !session || cart.length === 0) return;
    inFlight.current = true;
    setBusy(true);
    setFailure(undefined);
    try {
      const order = await inRootSpan('checkout', { 'order.lines': cart.length }, async (span) => {
        try {
          return (
            await call<Order>('/api/orders', {
              method: 'POST',
              token: session.token,
              headers: { 'Idempotency-Key': key },
              body: { items: orderItems(cart), paymentToken: card },
            })
          ).body;
        } catch (err) {
          if (err instanceof ApiError && !err.traceId) {
            throw new ApiError(err.status, err.code, err.message, recordedTraceId(span), err.retryAfterSeconds, err.details);
          }
          throw err;
        }
      });
      cartStore.set([]);
      setAttempt((a) => a + 1);
      navigate(`/orders/${order.id}`);
    } catch (error) {
      setFailure({ error, retryAt: retryAtOf(error) });
    } finally {
      inFlight.current = false;
      setBusy(false);
    }
  };

  if (cart.length === 0) {
    return (
      <section>
        <h1>Your cart</h1>
        <p>
          Your cart is empty. <Link href="/">Browse the catalog</Link>.
        </p>
      </section>
    );
  }
  return (
    <section aria-labelledby="cart-title">
      <h1 id="cart-title">Your cart</h1>
      <div className="scroll">
        <table className="lines" data-testid="cart">
          <thead>
            <tr>
              <th scope="col">Product</th>
              <th scope="col">Quantity</th>
              <th scope="col">Price</th>
              <th scope="col">
                <span className="sr-only">Remove</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {cart.map((line) => (
              <tr key={line.productId} data-testid="cart-line">
                <td>
                  <Link href={`/products/${line.productId}`}>{line.name}</Link>
                </td>
                <td>
                  <input
                    type="number"
                    min={0}
                    max={MAX_QUANTITY_PER_LINE}
                    value={line.quantity}
                    aria-label={`Quantity of ${line.name}`}
                    onChange={(e) => cartStore.set(setQuantity(cartStore.get(), line.productId, Number(e.target.value) || 0))}
                  />
                </td>
                <td>{formatCents(line.priceCents * line.quantity)}</td>
                <td>
                  <button type="button" className="link" onClick={() => cartStore.set(setQuantity(cartStore.get(), line.productId, 0))}>
                    Remove
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <p className="price">Total: {formatCents(cartTotalCents(cart))}</p>

      <h2>Checkout</h2>
      {!session ? (
        <p>
          <Link href="/login">Log in</Link> or <Link href="/register">create an account</Link> to check out.
        </p>
      ) : (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            void placeOrder();
          }}
        >
          <fieldset>
            <legend>Payment (test cards only)</legend>
            {PAYMENT_TOKENS.map((token) => (
              <label key={token} className="choice">
                <input type="radio" name="card" value={token} checked={card === token} onChange={() => setCard(token)} />
                {CARD_LABELS[token]}
              </label>
            ))}
          </fieldset>
          <button type="submit" className="primary" disabled={busy || wait > 0} data-idempotency-key={key}>
            {busy ? 'Placing order…' : wait > 0 ? `Place order (in ${wait} s)` : 'Place order'}
          </button>
        </form>
      )}
      {failure && <ErrorNotice error={failure.error} retryAt={failure.retryAt} />}
    </section>
  );
}
