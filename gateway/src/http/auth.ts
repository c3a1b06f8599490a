import type { Request } from 'express';
import { AppError, verifyAccessToken, type AccessClaims } from '@tracemart/platform';

/** One verification per request, shared by the rate limiter (to key buckets) and the routes (to authorise). */
const verified = new WeakMap<Request, Promise<AccessClaims>>();

/** The verified claims of the request's `Authorization: Bearer <jwt>`; rejects with a 401 AppError. */
export function verifiedClaims(req: Request, jwtSecret: string): Promise<AccessClaims> {
  let claims = verified.get(req);
  if (!claims) {
    const header = req.header('authorization');
    const match = header ? /^Bearer ([A-Za-z0-9._~+/=-]{1,4096})$/.exec(header) : null;
    claims = match?.[1] ? verifyAccessToken(match[1], jwtSecret) : Promise.reject(new AppError('unauthenticated', 'AUTH.REQUIRED', 'a bearer token is required'));
    claims.catch(() => undefined); // handled by whoever awaits it; never an unhandled rejection
    verified.set(req, claims);
  }
  return claims;
}

/** The caller's user id from a verified bearer token; 401 otherwise. */
export async function authenticate(req: Request, jwtSecret: string): Promise<string> {
  return (await verifiedClaims(req, jwtSecret)).sub;
}
