import { createSecretKey, type KeyObject } from 'node:crypto';
import { errors, jwtVerify, SignJWT } from 'jose';
import jwt from 'jsonwebtoken';
import { AppError } from './errors';
import { LruCache } from './resilience/lru';

/** Access tokens: HS256 JWTs signed by the user service, verified by the gateway. */
export interface AccessClaims {
  sub: string;
  name: string;
}

const ISSUER = 'tracemart-user';
/**
 * A user id as the user service makes them (uuids), with room for other id schemes; nothing else is a subject. A
 * validly signed token naming `a\u0000b` would otherwise carry a NUL into a database query (PostgreSQL refuses it: 500).
 */
const SUBJECT = /^[A-Za-z0-9_-]{1,128}$/;
const AUDIENCE = 'tracemart';
const encoder = new TextEncoder();

export async function signAccessToken(claims: AccessClaims, secret: string, ttlSeconds: number): Promise<string> {
  return new SignJWT({ name: claims.name })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(claims.sub)
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(`${ttlSeconds}s`)
    .sign(encoder.encode(secret));
}

/** The HMAC key made once per secret (making it is most of a verification's cost). */
const keys = new Map<string, KeyObject>();
const keyFor = (secret: string): KeyObject => {
  let key = keys.get(secret);
  if (!key) keys.set(secret, (key = createSecretKey(Buffer.from(secret, 'utf8'))));
  return key;
};

/**
 * Tokens already verified with a secret, until they expire: a client sends the same token with every request, and
 * the same bytes verify the same way until `exp`. Bounded; an entry past its expiry is verified again (and fails).
 */
const verified = new LruCache<string, { claims: AccessClaims; expiresAtMs: number }>(10_000);

/** Verifies signature, issuer, audience and expiry; any failure is a 401 that does not say which. */
export async function verifyAccessToken(token: string, secret: string): Promise<AccessClaims> {
  const cacheKey = `${secret.length}:${secret}\n${token}`;
  const hit = verified.get(cacheKey);
  if (hit && hit.expiresAtMs > Date.now()) return hit.claims;
  try {
    const { payload } = await jwtVerify(token, keyFor(secret), { issuer: ISSUER, audience: AUDIENCE, algorithms: ['HS256'] });
    if (typeof payload.sub !== 'string' || !SUBJECT.test(payload.sub) || typeof payload.name !== 'string') throw new Error('claims missing');
    const claims = { sub: payload.sub, name: payload.name };
    if (typeof payload.exp === 'number') verified.set(cacheKey, { claims, expiresAtMs: payload.exp * 1000 });
    return claims;
  } catch (err) {
    const expired = err instanceof errors.JWTExpired;
    throw new AppError('unauthenticated', expired ? 'AUTH.TOKEN_EXPIRED' : 'AUTH.INVALID_TOKEN', expired ? 'token expired' : 'invalid token');
  }
}

/**
 * Identity assertions: the gateway, having verified a user's access token, tells the service it forwards to which
 * user the request is for, in this header. An HS256 JWT signed with INTERNAL_AUTH_SECRET (a secret of the gateway and
 * the services only: the user service's JWT_SECRET cannot make one), for one request id, valid a minute. Services
 * believe no other statement of who the caller is (a bare `x-user-id` reached them from anyone who could connect).
 *
 * Made and checked with jsonwebtoken, which signs and verifies synchronously on node:crypto, rather than jose: every
 * forwarded request is signed once and verified once, and jose (WebCrypto) hands each HMAC to the thread pool and back
 * (measured on a loaded 2-core machine: about 95 µs a sign + verify in process, against 1.1 ms with jose). Each assertion is used for one
 * request, so there is no verified-token cache; the HMAC key is made once per secret (`keyFor`).
 */
export const IDENTITY_HEADER = 'x-tracemart-identity';
const IDENTITY_ISSUER = 'tracemart-gateway';
const IDENTITY_AUDIENCE = 'tracemart-internal';
/** Long enough for a request's whole deadline with retries (10 s by default) and some clock skew between hosts. */
export const IDENTITY_TTL_SECONDS = 60;
/** The gateway and the services may run on different hosts. */
const IDENTITY_CLOCK_TOLERANCE_SECONDS = 5;

export interface IdentityClaims {
  /** The user the request is for. */
  sub: string;
  /** The request (x-request-id) the assertion was made for: it holds for that request only. */
  requestId: string;
}

/** Signs an assertion that `claims.sub` is the user of request `claims.requestId`, for `ttlSeconds` from now. */
export function signIdentityAssertion(claims: IdentityClaims, secret: string, ttlSeconds = IDENTITY_TTL_SECONDS): string {
  return jwt.sign({ rid: claims.requestId }, keyFor(secret), {
    algorithm: 'HS256',
    subject: claims.sub,
    issuer: IDENTITY_ISSUER,
    audience: IDENTITY_AUDIENCE,
    expiresIn: ttlSeconds,
  });
}

const invalidIdentity = () => new AppError('unauthenticated', 'AUTH.INVALID_IDENTITY', 'invalid token');

/**
 * Verifies an identity assertion: HS256 only (`none` and every other algorithm refused), its HMAC, issuer, audience,
 * expiry and claims. Any failure is a 401 that does not say which check failed (AUTH.IDENTITY_EXPIRED for a late one).
 */
export function verifyIdentityAssertion(token: string, secret: string): IdentityClaims {
  let claims: jwt.JwtPayload | string;
  try {
    claims = jwt.verify(token, keyFor(secret), {
      algorithms: ['HS256'],
      issuer: IDENTITY_ISSUER,
      audience: IDENTITY_AUDIENCE,
      clockTolerance: IDENTITY_CLOCK_TOLERANCE_SECONDS,
    });
  } catch (err) {
    if (err instanceof jwt.TokenExpiredError) throw new AppError('unauthenticated', 'AUTH.IDENTITY_EXPIRED', 'token expired');
    throw invalidIdentity();
  }
  if (typeof claims === 'string') throw invalidIdentity();
  const { sub, rid, exp } = claims;
  if (typeof sub !== 'string' || !SUBJECT.test(sub) || typeof rid !== 'string' || typeof exp !== 'number') throw invalidIdentity();
  return { sub, requestId: rid };
}
