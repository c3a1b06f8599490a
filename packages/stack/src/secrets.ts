import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The secrets every process of one stack shares. */
export interface StackSecrets {
  /** Signs (user service) and verifies (gateway) the users' JWTs. */
  jwtSecret: string;
  /** The admin API's credential (`x-admin-token`): fault injection, dead letters, consumer pause. */
  adminToken: string;
  /** INTERNAL_AUTH_SECRET: the gateway signs identity assertions to services with it, services verify. */
  internalAuthSecret: string;
  /** Seals the card token of orders.placed: given to the order and payment services only. */
  paymentTokenKey: string;
}

/** Each secret's variable, random size (bytes) and file under the data folder (persistedSecrets). */
const SECRETS: Record<keyof StackSecrets, { variable: string; bytes: number; file: string }> = {
  jwtSecret: { variable: 'JWT_SECRET', bytes: 32, file: 'jwt-secret' },
  adminToken: { variable: 'ADMIN_TOKEN', bytes: 16, file: 'admin-token' },
  internalAuthSecret: { variable: 'INTERNAL_AUTH_SECRET', bytes: 32, file: 'internal-auth-secret' },
  paymentTokenKey: { variable: 'PAYMENT_TOKEN_KEY', bytes: 32, file: 'payment-token-key' },
};
const keys = Object.keys(SECRETS) as (keyof StackSecrets)[];

/** The secrets given in an environment (JWT_SECRET, ADMIN_TOKEN, INTERNAL_AUTH_SECRET, PAYMENT_TOKEN_KEY). */
export function secretsFromEnv(env: Record<string, string | undefined>): Partial<StackSecrets> {
  return Object.fromEntries(keys.flatMap((key) => (env[SECRETS[key].variable] ? [[key, env[SECRETS[key].variable]]] : [])));
}

/**
 * `startStack`'s secrets: those given, the others random per start and kept in memory, so that no well-known value
 * opens a running stack.
 */
export function randomSecrets(given: Partial<StackSecrets> = {}): StackSecrets {
  return Object.fromEntries(keys.map((key) => [key, given[key] ?? randomBytes(SECRETS[key].bytes).toString('hex')])) as unknown as StackSecrets;
}

/** The file a persisted secret is kept in (0600): `.data/admin-token` is what the fault CLI, k6 and the load harness read. */
export const secretFile = (dataDir: string, key: keyof StackSecrets): string => join(dataDir, SECRETS[key].file);

/**
 * One secret kept in the data folder: read when there, else made random and written. The write is a hard link of a
 * finished file, which fails when another process linked its own first: processes started at once (Tilt starts the
 * services together) all end up with the one value that won.
 */
export function persistedSecret(dataDir: string, key: keyof StackSecrets): string {
  const file = secretFile(dataDir, key);
  if (!existsSync(file)) {
    mkdirSync(dataDir, { recursive: true });
    const draft = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
    writeFileSync(draft, `${randomBytes(SECRETS[key].bytes).toString('hex')}\n`, { mode: 0o600 });
    chmodSync(draft, 0o600);
    try {
      linkSync(draft, file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    } finally {
      rmSync(draft, { force: true });
    }
  }
  return readFileSync(file, 'utf8').trim();
}

/**
 * The secrets of a stack whose processes are started one by one (`npm run stack:process`, Tilt's local mode): those
 * given, the others shared through the data folder, since no one process holds them for the others.
 */
export function persistedSecrets(dataDir: string, given: Partial<StackSecrets> = {}): StackSecrets {
  return Object.fromEntries(keys.map((key) => [key, given[key] ?? persistedSecret(dataDir, key)])) as unknown as StackSecrets;
}
