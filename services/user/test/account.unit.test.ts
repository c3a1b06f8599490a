import { describe, expect, it } from 'vitest';
import { grantFor, hashToCheck, profileOf } from '../src/domain/account';

const ada = { id: 'u-1', email: 'ada@example.com', name: 'Ada', passwordHash: 'scrypt$16384$8$1$c2FsdA==$a2V5' };

describe('profileOf', () => {
  it('when an account is shown, then id, email and name leave the service and the password hash does not', () => {
    expect(profileOf(ada)).toEqual({ id: 'u-1', email: 'ada@example.com', name: 'Ada' });
  });
});

describe('hashToCheck', () => {
  it("when the email is known, then the password is checked against that account's hash", () => {
    expect(hashToCheck(ada, 'decoy')).toBe(ada.passwordHash);
  });

  it('when the email is unknown, then the password is still checked, against the decoy', () => {
    expect(hashToCheck(undefined, 'decoy')).toBe('decoy');
  });
});

describe('grantFor', () => {
  it('when the password matches, then the token names the account by id and name', () => {
    expect(grantFor(ada, true)).toEqual({ sub: 'u-1', name: 'Ada' });
  });

  it('when the password is wrong or the email unknown, then nobody is let in, alike', () => {
    expect(grantFor(ada, false)).toBeUndefined();
    expect(grantFor(undefined, true)).toBeUndefined();
    expect(grantFor(undefined, false)).toBeUndefined();
  });
});
