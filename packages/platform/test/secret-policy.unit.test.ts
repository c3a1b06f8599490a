import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConfigError, KNOWN_PUBLIC_SECRETS, isLoopbackHost, loadConfig, secretPolicyReason, secretPolicyViolations } from '../src';

const random = () => randomBytes(32).toString('hex');
const strong = { JWT_SECRET: random(), INTERNAL_AUTH_SECRET: random(), PAYMENT_TOKEN_KEY: random(), ADMIN_TOKEN: random(), NATS_PASSWORD: random() };

describe('the secret policy', () => {
  it('when the listen address is loopback, then it is told apart from a reachable one', () => {
    for (const host of ['127.0.0.1', '127.8.9.10', 'localhost', 'LOCALHOST', '::1', '[::1]']) expect(isLoopbackHost(host), host).toBe(true);
    for (const host of ['0.0.0.0', '::', '10.0.0.5', '192.168.1.2', 'gateway', '127.0.0.1.example.com', '1270.0.0.1']) expect(isLoopbackHost(host), host).toBe(false);
  });

  it('when a process runs on loopback outside production, then the policy does not apply, whatever the secrets', () => {
    expect(secretPolicyReason({ HOST: '127.0.0.1' })).toBeUndefined();
    expect(secretPolicyReason({ NODE_ENV: 'test' })).toBeUndefined();
    expect(secretPolicyViolations({ HOST: '127.0.0.1', NODE_ENV: 'development', JWT_SECRET: 'dev-jwt-secret-change-me-0123456789abcdef', ADMIN_TOKEN: 'dev-admin-token' })).toEqual(
      [],
    );
  });

  it('when NODE_ENV is production or HOST is not loopback, then the policy applies and says why', () => {
    expect(secretPolicyReason({ NODE_ENV: 'production', HOST: '127.0.0.1' })).toBe('NODE_ENV=production');
    expect(secretPolicyReason({ NODE_ENV: 'development', HOST: '0.0.0.0' })).toBe('HOST=0.0.0.0 is not a loopback address');
  });

  it.each([
    ['JWT_SECRET', 'dev-jwt-secret-change-me-0123456789abcdef', 'is a known public default'],
    ['ADMIN_TOKEN', 'dev-admin-token', 'is a known public default'],
    ['INTERNAL_AUTH_SECRET', 'please-change-me-before-deploying-this-0123', 'is a placeholder'],
    ['JWT_SECRET', 'ChangeMe-ChangeMe-ChangeMe-ChangeMe-0123', 'is a placeholder'],
    ['JWT_SECRET', 'too-short-for-hs256', 'is shorter than 32 characters'],
    ['INTERNAL_AUTH_SECRET', 'x'.repeat(40), 'repeats a single character'],
    ['ADMIN_TOKEN', 'abcdef12345', 'is shorter than 16 characters'],
    ['NATS_PASSWORD', 'secret', 'is shorter than 16 characters'],
    ['PAYMENT_TOKEN_KEY', 'p'.repeat(32), 'repeats a single character'],
  ])('when %s is %j in production, then it is refused: it %s', (variable, value, why) => {
    const violations = secretPolicyViolations({ ...strong, NODE_ENV: 'production', [variable]: value });
    expect(violations).toHaveLength(1);
    expect(violations[0]).toMatch(new RegExp(`^${variable}: ${why}.*NODE_ENV=production`));
  });

  it('when every known public value is tried as every secret on 0.0.0.0, then each one is refused', () => {
    for (const value of KNOWN_PUBLIC_SECRETS) {
      for (const variable of Object.keys(strong)) {
        expect(secretPolicyViolations({ ...strong, HOST: '0.0.0.0', [variable]: value }), `${variable}=${value}`).toHaveLength(1);
      }
    }
  });

  it('when the MongoDB URL carries a known public password, then it is refused; a random one is not', () => {
    const url = (password: string) => `mongodb://order:${password}@mongodb-0.mongodb:27017/tracemart_order?authSource=tracemart_order`;
    expect(secretPolicyViolations({ HOST: '0.0.0.0', MONGODB_URL: url('dev-order-password') })).toEqual([
      'MONGODB_URL: its password is a known public default; refused because HOST=0.0.0.0 is not a loopback address',
    ]);
    expect(secretPolicyViolations({ HOST: '0.0.0.0', MONGODB_URL: url(random()) })).toEqual([]);
    expect(secretPolicyViolations({ HOST: '0.0.0.0', MONGODB_URL: 'mongodb://127.0.0.1:27017' })).toEqual([]);
  });

  it('when every secret is random and long enough, then production accepts them, and an unset admin token too', () => {
    expect(secretPolicyViolations({ ...strong, NODE_ENV: 'production', HOST: '0.0.0.0' })).toEqual([]);
    expect(secretPolicyViolations({ JWT_SECRET: random(), NODE_ENV: 'production', ADMIN_TOKEN: '' })).toEqual([]);
  });
});

describe('loadConfig with the secret policy', () => {
  const schema = z.object({ HOST: z.string().default('127.0.0.1'), JWT_SECRET: z.string().min(32) });

  it('when a reachable process is configured with the public dev JWT secret, then loading fails naming JWT_SECRET', () => {
    const load = () => loadConfig(schema, { HOST: '0.0.0.0', JWT_SECRET: 'dev-jwt-secret-change-me-0123456789abcdef' });
    expect(load).toThrow(ConfigError);
    expect(load).toThrow(/JWT_SECRET: is a known public default/);
  });

  it('when HOST is left to its loopback default and NODE_ENV is not production, then the same secret loads', () => {
    expect(loadConfig(schema, { JWT_SECRET: 'dev-jwt-secret-change-me-0123456789abcdef' }).HOST).toBe('127.0.0.1');
  });

  it('when NODE_ENV=production comes from the environment the schema does not read, then the policy still applies', () => {
    expect(() => loadConfig(schema, { NODE_ENV: 'production', JWT_SECRET: 'dev-jwt-secret-change-me-0123456789abcdef' })).toThrow(/JWT_SECRET/);
    expect(loadConfig(schema, { NODE_ENV: 'production', JWT_SECRET: strong.JWT_SECRET }).JWT_SECRET).toBe(strong.JWT_SECRET);
  });
});
