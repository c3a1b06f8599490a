import { FailureThrottle, LOGIN_THROTTLE_PER_ACCOUNT, type Infrastructure } from '@tracemart/platform';
import type { Config } from './config';
import { createUserStore } from './data/users';
import { hashPassword } from './domain/password';

/** What the user use cases run with. */
export async function userDependencies({ db, logger }: Infrastructure, config: Config) {
  return {
    logger,
    users: await createUserStore(db),
    jwt: { secret: config.JWT_SECRET, ttlSeconds: config.JWT_TTL_SECONDS },
    /** A real hash to check against when the email is unknown (see `hashToCheck`). */
    decoyHash: await hashPassword('decoy-password-for-timing'),
    /** Failed log-ins per account: past a few, the account's next attempt waits (kept in this process). */
    loginFailures: new FailureThrottle(LOGIN_THROTTLE_PER_ACCOUNT),
  };
}
export type UserDeps = Awaited<ReturnType<typeof userDependencies>>;
