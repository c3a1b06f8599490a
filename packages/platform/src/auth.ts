import { errors, jwtVerify, SignJWT } from 'jose';
import { AppError } from './errors';

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

/** Verifies signature, issuer, audience and expiry; any failure is a 401 that does not say which. */
export async function verifyAccessToken(token: string, secret: string): Promise<AccessClaims> {
  try {
    const { payload } = await jwtVerify(token, encoder.encode(secret), { issuer: ISSUER, audience: AUDIENCE, algorithms: ['HS256'] });
    if (typeof payload.sub !== 'string' || typeof payload.name !== 'string') throw new Error('claims missing');
    return { sub: payload.sub, name: payload.name };
  } catch (err) {
    const expired = err instanceof errors.JWTExpired;
    throw new AppError('unauthenticated', expired ? 'AUTH.TOKEN_EXPIRED' : 'AUTH.INVALID_TOKEN', expired ? 'token expired' : 'invalid token');
  }
}
