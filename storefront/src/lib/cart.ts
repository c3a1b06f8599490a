import type { Product } from './types';

/** The cart lives in the browser (localStorage): lines with the price seen when added; the order service prices again. */
export interface CartLine {
  productId: string;
  name: string;
  priceCents: number;
  quantity: number;
}
export type Cart = readonly CartLine[];

/** The order API's limits (PlaceOrderBody): per line and per order. */
export const MAX_QUANTITY_PER_LINE = 100;
export const MAX_LINES_PER_ORDER = 20;

const clampQuantity = (quantity: number): number => Math.min(MAX_QUANTITY_PER_LINE, Math.max(0, Math.floor(quantity)));

/** Adds `quantity` of a product (merging with its line); a new line beyond the order's limit is refused. */
export function addToCart(cart: Cart, product: Pick<Product, 'id' | 'name' | 'priceCents'>, quantity = 1): Cart {
  const existing = cart.find((line) => line.productId === product.id);
  if (existing) return setQuantity(cart, product.id, existing.quantity + quantity);
  if (cart.length >= MAX_LINES_PER_ORDER) return cart;
  const q = clampQuantity(quantity);
  if (q === 0) return cart;
  return [...cart, { productId: product.id, name: product.name, priceCents: product.priceCents, quantity: q }];
}

/** Sets a line's quantity; 0 removes the line. */
export function setQuantity(cart: Cart, productId: string, quantity: number): Cart {
  const q = clampQuantity(quantity);
  if (q === 0) return cart.filter((line) => line.productId !== productId);
  return cart.map((line) => (line.productId === productId ? { ...line, quantity: q } : line));
}

export const cartTotalCents = (cart: Cart): number => cart.reduce((sum, line) => sum + line.priceCents * line.quantity, 0);
export const cartCount = (cart: Cart): number => cart.reduce((sum, line) => sum + line.quantity, 0);

/** The body of POST /api/orders for this cart. */
export const orderItems = (cart: Cart): { productId: string; quantity: number }[] => cart.map(({ productId, quantity }) => ({ productId, quantity }));

/** Reads a stored cart, dropping anything that is not a well-formed line (a stale or hand-edited localStorage). */
export function parseCart(json: string | null): Cart {
  if (!json) return [];
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    return [];
  }
  if (!Array.isArray(value)) return [];
  const lines: CartLine[] = [];
  for (const item of value as Partial<CartLine>[]) {
    if (
      typeof item?.productId === 'string' &&
      typeof item.name === 'string' &&
      Number.isInteger(item.priceCents) &&
      Number.isInteger(item.quantity) &&
      (item.quantity as number) > 0 &&
      !lines.some((l) => l.productId === item.productId)
    ) {
      lines.push({ productId: item.productId, name: item.name, priceCents: item.priceCents as number, quantity: clampQuantity(item.quantity as number) });
    }
  }
  return lines.slice(0, MAX_LINES_PER_ORDER);
}

/** A stable signature of what an order would contain: a new checkout attempt begins when it changes. */
export const cartSignature = (cart: Cart, paymentToken: string): string =>
  `${paymentToken}|${cart
    .map((l) => `${l.productId}x${l.quantity}`)
    .sort()
    .join(',')}`;
