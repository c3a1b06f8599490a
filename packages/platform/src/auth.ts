import { createSecretKey, type KeyObject } from 'node:crypto';
import { errors, jwtVerify, SignJWT } from 'jose';
import { AppError } from './errors';
import { LruCache } from './resilience/lru';

/** Access tokens: HS256 JWTs signed by the user service, verified by the gateway. */
export interface AccessClaims {
  sub: string;
  name: string;
}

const ISSUER = 'tracemart-user';
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
    if (typeof payload.sub !== 'string' || typeof payload.name !== 'string') throw new Error('claims missing');
    const claims = { sub: payload.sub, name: payload.name };
    if (typeof payload.exp === 'number') verified.set(cacheKey, { claims, expiresAtMs: payload.exp * 1000 });
    return claims;
  } catch (err) {
    const expired = err instanceof errors.JWTExpired;
    throw new AppError('unauthenticated', expired ? 'AUTH.TOKEN_EXPIRED' : 'AUTH.INVALID_TOKEN', expired ? 'token expired' : 'invalid token');
  }
}
