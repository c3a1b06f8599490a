import { AppError, signAccessToken } from '@tracemart/platform';
import { grantFor, hashToCheck } from '../domain/account';
import { verifyPassword } from '../domain/password';
import type { UserDeps } from '../dependencies';

/**
 * Checks email and password and issues a short-lived access token (JWT) naming the user. After a few failures for
 * one account, further attempts must wait (429 with Retry-After, the right password included): guessing is slow.
 */
export async function logIn({ users, jwt, decoyHash, loginFailures }: UserDeps, credentials: { email: string; password: string }): Promise<{ token: string; expiresIn: number }> {
  const account = `account:${credentials.email}`;
  loginFailures.assertAllowed(account);
  const user = await users.findByEmail(credentials.email);
  const grant = grantFor(user, await verifyPassword(credentials.password, hashToCheck(user, decoyHash)));
  if (!grant) {
    loginFailures.failed(account);
    throw new AppError('unauthenticated', 'AUTH.INVALID_CREDENTIALS', 'invalid email or password');
  }
  loginFailures.succeeded(account);
  return { token: await signAccessToken(grant, jwt.secret, jwt.ttlSeconds), expiresIn: jwt.ttlSeconds };
}
