import { describe, expect, it } from 'vitest';
import { verifyAccessToken } from '@tracemart/platform';
import { useComponent } from '@tracemart/testing';
import { userModule } from '../src/module';

type ErrorBody = { error: { code: string; message: string } };

const JWT_SECRET = 'component-test-secret-'.padEnd(40, 's');

const service = useComponent(userModule, { JWT_SECRET });

const users = () => service.db.collection<{ _id: string; email: string; name: string; passwordHash: string }>('users');

let counter = 0;
const newUser = (name = 'Ada') => {
  counter += 1;
  return { email: `${name.toLowerCase()}-${counter}-${Date.now()}@example.com`, password: `correct horse ${counter}`, name };
};

async function register(body: unknown) {
  return service.api.post<Record<string, unknown>>('/users/register', body);
}

describe('registration', () => {
  it('when a new user registers, then 201 answers id, email and name, and no password or hash', async () => {
    const user = newUser();
    const response = await register(user);
    expect(response.status).toBe(201);
    expect(response.body).toEqual({ id: expect.any(String), email: user.email, name: user.name });
    expect(JSON.stringify(response.body)).not.toContain('scrypt');
  });

  it('when a user registers, then the stored password is a salted scrypt hash, never the plain text', async () => {
    const user = newUser();
    const response = await register(user);
    const stored = await users().findOne({ _id: response.body.id as string });
    expect(stored).not.toBeNull();
    expect(JSON.stringify(stored)).not.toContain(user.password);
    expect(stored?.passwordHash).toMatch(/^scrypt\$\d+\$\d+\$\d+\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);

    const twin = await register({ ...newUser(), password: user.password });
    const twinStored = await users().findOne({ _id: twin.body.id as string });
    expect(twinStored?.passwordHash).not.toBe(stored?.passwordHash);
  });

  it('when an email is registered again, also in other letter case, then 409 and only one account exists', async () => {
    const user = newUser();
    expect((await register(user)).status).toBe(201);

    const again = await register({ ...user, name: 'Someone Else' });
    const shouted = await register({ ...user, email: user.email.toUpperCase() });

    expect(again.status).toBe(409);
    expect((again.body as ErrorBody).error.code).toBe('USER.EMAIL_TAKEN');
    expect(shouted.status).toBe(409);
    expect(await users().countDocuments({ email: user.email })).toBe(1);
  });
});

describe('login', () => {
  it('when the password is right, then the token verifies with the configured JWT_SECRET and names the user', async () => {
    const user = newUser('Grace');
    const registered = await register(user);
    const login = await service.api.post<{ token: string; expiresIn: number }>('/users/login', { email: user.email.toUpperCase(), password: user.password });

    expect(login.status).toBe(200);
    const claims = await verifyAccessToken(login.body.token, JWT_SECRET);
    expect(claims).toEqual({ sub: registered.body.id, name: 'Grace' });
    await expect(verifyAccessToken(login.body.token, 'another-secret-of-enough-length-000000')).rejects.toThrow();
  });

  it('when the password is wrong or the email unknown, then both answer the same 401 body', async () => {
    const user = newUser();
    await register(user);
    const wrongPassword = await service.api.post('/users/login', { email: user.email, password: 'not the password' });
    const unknownEmail = await service.api.post('/users/login', { email: `nobody-${Date.now()}@example.com`, password: user.password });

    expect(wrongPassword.status).toBe(401);
    expect(unknownEmail.status).toBe(401);
    expect(wrongPassword.body).toEqual({ error: { code: 'AUTH.INVALID_CREDENTIALS', message: expect.any(String) } });
    expect(unknownEmail.body).toEqual(wrongPassword.body);
  });

  it('when 30 wrong passwords are tried for one account, then attempts past the fifth get 429 with Retry-After, the right password too; other accounts are unaffected', async () => {
    const user = newUser('Mallory');
    await register(user);
    const statuses: number[] = [];
    for (let i = 0; i < 30; i++) statuses.push((await service.api.post('/users/login', { email: user.email, password: `guess ${i}` })).status);
    expect(statuses.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
    expect(statuses.slice(5)).toEqual(Array.from({ length: 25 }, () => 429));
    const right = await service.api.post<ErrorBody>('/users/login', { email: user.email, password: user.password });
    expect(right.status).toBe(429);
    expect(right.body.error.code).toBe('AUTH.TOO_MANY_ATTEMPTS');
    expect(Number(right.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    const other = newUser('Trent');
    await register(other);
    expect((await service.api.post('/users/login', { email: other.email, password: other.password })).status).toBe(200);
  });

  it('when the password is an operator object, then 400 and no token', async () => {
    const user = newUser();
    await register(user);
    const response = await service.api.post<ErrorBody>('/users/login', { email: user.email, password: { $ne: null } });
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe('REQUEST.FORBIDDEN_KEY');
    expect(response.body).not.toHaveProperty('token');
  });
});

describe('profile', () => {
  it('when /users/me is called with no identity assertion, then 401 with WWW-Authenticate', async () => {
    const response = await service.api.get<ErrorBody>('/users/me');
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(response.body.error.code).toBe('AUTH.REQUIRED');
  });

  it('when /users/me is called on the service port with a bare x-user-id naming a user, then 401 and nothing of theirs', async () => {
    const registered = await register(newUser('Grace'));
    const response = await service.api.get<ErrorBody>('/users/me', { 'x-user-id': registered.body.id as string });
    expect(response.status).toBe(401);
    expect(JSON.stringify(response.body)).not.toContain('grace');
  });

  it('when /users/me is called with the gateway identity assertion of a user, then it answers that user without the hash', async () => {
    const user = newUser('Linus');
    const registered = await register(user);
    const response = await service.as(registered.body.id as string).get('/users/me');
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ id: registered.body.id, email: user.email, name: 'Linus' });
  });
});

describe('bad registration bodies', () => {
  const user = () => newUser('Mallory');
  const cases: [string, () => unknown, number][] = [
    ['an operator key in a value', () => ({ ...user(), email: { $gt: '' } }), 400],
    ['an operator key at the top level', () => ({ ...user(), $where: 'sleep(1000)' }), 400],
    ['a dotted key', () => ({ ...user(), 'profile.admin': true }), 400],
    ['a missing password', () => ({ email: user().email, name: 'Mallory' }), 400],
    ['a missing email', () => ({ password: 'long enough password', name: 'Mallory' }), 400],
    ['a too short password', () => ({ ...user(), password: 'short' }), 400],
    ['an unknown field', () => ({ ...user(), role: 'admin' }), 400],
    ['malformed JSON', () => '{"email": ', 400],
    ['a body over the size limit', () => ({ ...user(), name: 'x'.repeat(70 * 1024) }), 413],
  ];

  it.each(cases)('when the body has %s, then a 4xx error body and nothing is written', async (_label, body, status) => {
    const before = await users().countDocuments();
    const response = await register(body());
    expect(response.status).toBe(status);
    expect(response.body).toEqual({ error: expect.objectContaining({ code: expect.stringMatching(/^[A-Z]+\.[A-Z_]+$/), message: expect.any(String) }) });
    expect(await users().countDocuments()).toBe(before);
  });
});
