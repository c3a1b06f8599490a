import { AppError, signAccessToken } from '@tracemart/platform';
import { grantFor, hashToCheck } from '../domain/account';
import { verifyPassword } from '../domain/password';
import type { UserDeps } from '../dependencies';

/** Checks email and password and issues a short-lived access token (JWT) naming the user. */
export async function logIn({ users, jwt, decoyHash }: UserDeps, credentials: { email: string; password: string }): Promise<{ token: string; expiresIn: number }> {
  const user = await users.findByEmail(credentials.email);
  const grant = grantFor(user, await verifyPassword(credentials.password, hashToCheck(user, decoyHash)));
  if (!grant) throw new AppError('unauthenticated', 'AUTH.INVALID_CREDENTIALS', 'invalid email or password');
  return { token: await signAccessToken(grant, jwt.secret, jwt.ttlSeconds), expiresIn: jwt.ttlSeconds };
}
