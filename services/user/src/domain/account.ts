/**
 * The account rules of the user service: what of an account leaves the service, and who a log-in lets in.
 * The password hash itself is checked in `password.ts`.
 */
export interface Account {
  id: string;
  email: string;
  name: string;
  passwordHash: string;
}

/** What callers see of an account: never the password hash. */
export interface Profile {
  id: string;
  email: string;
  name: string;
}

/** The claims an access token carries (the platform's AccessClaims). */
export interface Grant {
  sub: string;
  name: string;
}

export const profileOf = ({ id, email, name }: Profile): Profile => ({ id, email, name });

/**
 * The hash a log-in checks the password against: the account's, or a decoy when the email is unknown, so both
 * failures take the same time and the answer does not reveal which emails are registered.
 */
export function hashToCheck(account: Pick<Account, 'passwordHash'> | undefined, decoyHash: string): string {
  return account?.passwordHash ?? decoyHash;
}

/** Who a log-in lets in: the account's owner when the password matched; nobody (one answer for both failures) otherwise. */
export function grantFor(account: Pick<Account, 'id' | 'name'> | undefined, passwordMatches: boolean): Grant | undefined {
  return account && passwordMatches ? { sub: account.id, name: account.name } : undefined;
}
