import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { signAccessToken, verifyAccessToken } from '../src/auth';

const secret = 's'.repeat(32);

describe('access tokens', () => {
  it('when a token is verified again, then the same claims come back; with another secret it is refused even after being accepted', async () => {
    const token = await signAccessToken({ sub: 'u1', name: 'Ann' }, secret, 60);
    expect(await verifyAccessToken(token, secret)).toEqual({ sub: 'u1', name: 'Ann' });
    expect(await verifyAccessToken(token, secret)).toEqual({ sub: 'u1', name: 'Ann' });
    await expect(verifyAccessToken(token, 'x'.repeat(32))).rejects.toMatchObject({ code: 'AUTH.INVALID_TOKEN' });
  });

  it('when a token is edited or expired, then it is refused', async () => {
    const token = await signAccessToken({ sub: 'u1', name: 'Ann' }, secret, 60);
    const [header, , signature] = token.split('.');
    const forged = `${header}.${Buffer.from(JSON.stringify({ sub: 'u2', name: 'Eve', iss: 'tracemart-user', aud: 'tracemart', exp: 9e9 })).toString('base64url')}.${signature}`;
    await expect(verifyAccessToken(forged, secret)).rejects.toMatchObject({ code: 'AUTH.INVALID_TOKEN' });
    const expired = await new SignJWT({ name: 'Ann' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('u1')
      .setIssuer('tracemart-user')
      .setAudience('tracemart')
      .setExpirationTime(Math.floor(Date.now() / 1000) - 10)
      .sign(new TextEncoder().encode(secret));
    await expect(verifyAccessToken(expired, secret)).rejects.toMatchObject({ code: 'AUTH.TOKEN_EXPIRED' });
  });
});
