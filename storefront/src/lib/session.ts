import { local, storedValue, useStore } from './store';
import { parseCart, type Cart } from './cart';

/** The signed-in shopper: the bearer token from POST /api/users/login and when it stops working. */
export interface Session {
  token: string;
  email: string;
  expiresAt: number;
}

function parseSession(json: string | null): Session | null {
  if (!json) return null;
  const value = JSON.parse(json) as Partial<Session>;
  if (typeof value.token !== 'string' || typeof value.email !== 'string' || typeof value.expiresAt !== 'number') return null;
  return value.expiresAt > Date.now() ? (value as Session) : null;
}

export const sessionStore = storedValue<Session | null>(local, 'tracemart.session', parseSession, (s) => (s ? JSON.stringify(s) : null));
export const cartStore = storedValue<Cart>(local, 'tracemart.cart', parseCart, (cart) => JSON.stringify(cart));

/** The session while its token is still valid. */
export function useSession(): Session | null {
  const session = useStore(sessionStore);
  return session && session.expiresAt > Date.now() ? session : null;
}
export const useCart = (): Cart => useStore(cartStore);
