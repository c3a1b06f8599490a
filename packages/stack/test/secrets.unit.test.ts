import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { persistedSecrets, randomSecrets, secretsFromEnv } from '../src/secrets';

const dir = mkdtempSync(join(tmpdir(), 'tracemart-secrets-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the stack secrets', () => {
  it('when npm start makes them, then each is random per start unless given', () => {
    const a = randomSecrets();
    const b = randomSecrets({ adminToken: 'given' });
    expect(a.jwtSecret).not.toBe(b.jwtSecret);
    expect(a.adminToken).toMatch(/^[0-9a-f]{32}$/);
    expect(b.adminToken).toBe('given');
  });

  it('when processes started one by one ask for them, then the first makes each file (0600) and every later one reads the same values', () => {
    const first = persistedSecrets(dir);
    const second = persistedSecrets(dir);
    expect(second).toEqual(first);
    expect(readFileSync(join(dir, 'admin-token'), 'utf8').trim()).toBe(first.adminToken);
    expect(statSync(join(dir, 'payment-token-key')).mode & 0o777).toBe(0o600);
  });

  it('when the environment gives a secret, then it wins over the file, and only the four secret variables are read', () => {
    const given = secretsFromEnv({ ADMIN_TOKEN: 'from-env', LOG_LEVEL: 'debug', PAYMENT_TOKEN_KEY: '' });
    expect(given).toEqual({ adminToken: 'from-env' });
    expect(persistedSecrets(dir, given).adminToken).toBe('from-env');
  });
});
