import { describe, expect, it } from 'vitest';
import { addToCart, cartCount, cartSignature, cartTotalCents, MAX_LINES_PER_ORDER, MAX_QUANTITY_PER_LINE, orderItems, parseCart, setQuantity, type Cart } from '../src/lib/cart';

const kettle = { id: 'gooseneck-kettle', name: 'Gooseneck Kettle', priceCents: 4_500 };
const beans = { id: 'colombia-huila-beans', name: 'Colombia Huila Beans', priceCents: 1_299 };

describe('cart', () => {
  it('when the same product is added twice, then it is one line with both quantities', () => {
    const cart = addToCart(addToCart([], kettle), kettle, 2);
    expect(cart).toEqual([{ productId: kettle.id, name: kettle.name, priceCents: 4_500, quantity: 3 }]);
  });

  it('when two products are added, then the total and the count add up and the order body lists both', () => {
    const cart = addToCart(addToCart([], kettle, 2), beans);
    expect(cartTotalCents(cart)).toBe(2 * 4_500 + 1_299);
    expect(cartCount(cart)).toBe(3);
    expect(orderItems(cart)).toEqual([
      { productId: kettle.id, quantity: 2 },
      { productId: beans.id, quantity: 1 },
    ]);
  });

  it('when a quantity goes past the API limit, then it is capped; at 0 the line is removed', () => {
    const cart = addToCart([], kettle, 250);
    expect(cart[0]?.quantity).toBe(MAX_QUANTITY_PER_LINE);
    expect(setQuantity(cart, kettle.id, 0)).toEqual([]);
    expect(setQuantity(cart, kettle.id, -3)).toEqual([]);
  });

  it('when the cart has the most lines an order may have, then a new product is not added', () => {
    let cart: Cart = [];
    for (let i = 0; i < MAX_LINES_PER_ORDER; i++) cart = addToCart(cart, { id: `p-${i}`, name: `P ${i}`, priceCents: 100 });
    expect(addToCart(cart, kettle)).toBe(cart);
  });

  it('when the stored cart is malformed, then only well-formed lines survive', () => {
    expect(parseCart('not json')).toEqual([]);
    expect(parseCart('{"a":1}')).toEqual([]);
    expect(parseCart(JSON.stringify([{ productId: 'a', name: 'A', priceCents: 100, quantity: 2 }, { productId: 'b', name: 'B', priceCents: 1.5, quantity: 1 }, null]))).toEqual([
      { productId: 'a', name: 'A', priceCents: 100, quantity: 2 },
    ]);
  });

  it('when the cart or the card changes, then its signature (and so the checkout attempt) changes; order of lines does not matter', () => {
    const a = addToCart(addToCart([], kettle), beans);
    const b = addToCart(addToCart([], beans), kettle);
    expect(cartSignature(a, 'tok_visa')).toBe(cartSignature(b, 'tok_visa'));
    expect(cartSignature(a, 'tok_visa')).not.toBe(cartSignature(a, 'tok_chargeDeclined'));
    expect(cartSignature(a, 'tok_visa')).not.toBe(cartSignature(setQuantity(a, kettle.id, 2), 'tok_visa'));
  });
});
