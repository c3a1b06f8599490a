import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { signAccessToken, signIdentityAssertion, verifyAccessToken, verifyIdentityAssertion } from '../src/auth';

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

describe('subjects', () => {
  it('when a validly signed token names a subject that is no user id (NUL, escape, too long), then it is refused', async () => {
    for (const sub of ['a\u0000b', '\u001b[31m', 'x'.repeat(129), '']) {
      await expect(
        signAccessToken({ sub, name: 'Ann' }, secret, 60).then((token) => verifyAccessToken(token, secret)),
        JSON.stringify(sub),
      ).rejects.toMatchObject({ code: 'AUTH.INVALID_TOKEN' });
      expect(() => verifyIdentityAssertion(signIdentityAssertion({ sub, requestId: 'r1' }, secret), secret), JSON.stringify(sub)).toThrow(
        expect.objectContaining({ code: 'AUTH.INVALID_IDENTITY' }),
      );
    }
  });
});

describe('identity assertions', () => {
  it('when an assertion is verified, then its user and request id come back; with another secret it is refused', () => {
    const assertion = signIdentityAssertion({ sub: 'u1', requestId: 'r1' }, secret);
    expect(verifyIdentityAssertion(assertion, secret)).toEqual({ sub: 'u1', requestId: 'r1' });
    expect(() => verifyIdentityAssertion(assertion, 'x'.repeat(32))).toThrow(expect.objectContaining({ code: 'AUTH.INVALID_IDENTITY' }));
  });

  it('when an assertion is made by jose with the same claims, then it verifies: it is a standard HS256 JWT', async () => {
    const made = await new SignJWT({ rid: 'r1' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('u1')
      .setIssuer('tracemart-gateway')
      .setAudience('tracemart-internal')
      .setExpirationTime('1m')
      .sign(new TextEncoder().encode(secret));
    expect(verifyIdentityAssertion(made, secret)).toEqual({ sub: 'u1', requestId: 'r1' });
  });

  it('when one kind of token is offered as the other, signed with the same secret, then it is refused', async () => {
    const access = await signAccessToken({ sub: 'u1', name: 'Ann' }, secret, 60);
    expect(() => verifyIdentityAssertion(access, secret)).toThrow(expect.objectContaining({ code: 'AUTH.INVALID_IDENTITY' }));
    await expect(verifyAccessToken(signIdentityAssertion({ sub: 'u1', requestId: 'r1' }, secret), secret)).rejects.toMatchObject({ code: 'AUTH.INVALID_TOKEN' });
  });

  it('when an assertion is past its expiry (beyond the clock tolerance), then it is refused as expired', () => {
    const expired = signIdentityAssertion({ sub: 'u1', requestId: 'r1' }, secret, -10);
    expect(() => verifyIdentityAssertion(expired, secret)).toThrow(expect.objectContaining({ code: 'AUTH.IDENTITY_EXPIRED' }));
  });

  it('when the header names another algorithm or none, or the token is not three segments, then it is refused before any claim is read', () => {
    const [, payload, signature] = signIdentityAssertion({ sub: 'u1', requestId: 'r1' }, secret).split('.');
    for (const alg of ['none', 'HS512', 'RS256']) {
      const header = Buffer.from(JSON.stringify({ alg, typ: 'JWT' })).toString('base64url');
      expect(() => verifyIdentityAssertion(`${header}.${payload}.${alg === 'none' ? '' : signature}`, secret), alg).toThrow(
        expect.objectContaining({ code: 'AUTH.INVALID_IDENTITY' }),
      );
    }
    for (const token of ['', 'u1', `${payload}.${signature}`, `a.${payload}.${signature}.d`]) {
      expect(() => verifyIdentityAssertion(token, secret), token).toThrow(expect.objectContaining({ code: 'AUTH.INVALID_IDENTITY' }));
    }
  });
});
