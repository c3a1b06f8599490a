import { describe, expect, it } from 'vitest';
import { hashPassword, verifyPassword } from '../src/domain/password';

describe('password hashes', () => {
  it('when a password is hashed, then the stored form names scrypt and its parameters and holds no plain text', async () => {
    const stored = await hashPassword('correct horse battery');
    expect(stored).toMatch(/^scrypt\$16384\$8\$1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
    expect(stored).not.toContain('correct horse');
  });

  it('when the same password is hashed twice, then the salts make the hashes differ and both verify', async () => {
    const [first, second] = await Promise.all([hashPassword('same password'), hashPassword('same password')]);
    expect(first).not.toBe(second);
    expect(await verifyPassword('same password', first)).toBe(true);
    expect(await verifyPassword('same password', second)).toBe(true);
  });

  it('when the password is wrong, then it does not verify', async () => {
    expect(await verifyPassword('wrong password', await hashPassword('right password'))).toBe(false);
  });

  it.each(['', 'plain text', 'bcrypt$10$abc$def$ghi$jkl', 'scrypt$16384$8$1$c2FsdA=='])('when the stored hash is %j (not a scrypt hash), then nothing verifies', async (stored) => {
    expect(await verifyPassword('anything', stored)).toBe(false);
  });
});
