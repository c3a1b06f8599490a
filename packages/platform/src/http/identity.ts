import type { Request, RequestHandler } from 'express';
import { IDENTITY_HEADER, verifyIdentityAssertion } from '../auth';
import { AppError } from '../errors';

/** The user each request is for, once its identity assertion has been verified (see `verifiedCaller`). */
const callers = new WeakMap<Request, string>();

/**
 * Verifies the gateway's identity assertion (`x-tracemart-identity`) of a request that carries one, before any route
 * runs: a valid one, made for this request's id, names the caller (`callerId`, `requireCaller`); any other is a 401.
 * A request without one has no caller. Nothing else names a caller: an `x-user-id` header, say, is ignored.
 * Runs after the request id is known (the assertion is bound to it).
 */
export function verifiedCaller(secret: string): RequestHandler {
  return (req, res, next) => {
    const token = req.header(IDENTITY_HEADER);
    if (token === undefined) return next();
    // A JWT of ours is a few hundred characters; a longer header is not worth an HMAC.
    if (token.length > 4096) return next(invalidIdentity());
    try {
      const claims = verifyIdentityAssertion(token, secret);
      if (claims.requestId !== res.locals.requestId) return next(invalidIdentity());
      callers.set(req, claims.sub);
      next();
    } catch (err) {
      next(err);
    }
  };
}

const invalidIdentity = () => new AppError('unauthenticated', 'AUTH.INVALID_IDENTITY', 'invalid token');

/** The user the gateway vouched for on this request, if any. */
export function callerId(req: Request): string | undefined {
  return callers.get(req);
}

/** The user the gateway vouched for on this request; a 401 (with WWW-Authenticate) when there is none. */
export function requireCaller(req: Request): string {
  const id = callers.get(req);
  if (id === undefined) throw new AppError('unauthenticated', 'AUTH.REQUIRED', 'authentication required');
  return id;
}
