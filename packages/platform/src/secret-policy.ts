/**
 * Refusing to run exposed with a secret everyone knows. The repository has carried public development values
 * (the old Kubernetes dev Secrets), and a process started with one of them on a reachable address, or as a production
 * build, hands its signing key or admin API to anyone who read the code. Such a process stops at start-up with a message
 * naming the variable; on loopback outside production (tests, `npm start`) anything goes.
 */

/** The variables holding a secret, with the shortest value accepted once the policy applies. */
export const SECRET_MIN_LENGTH = {
  /** HS256 key of the access tokens (user signs, gateway verifies). */
  JWT_SECRET: 32,
  /** HS256 key of the gateway's identity assertion to the services. */
  INTERNAL_AUTH_SECRET: 32,
  /** Seals the card token in `orders.placed` for the payment service (order and payment). */
  PAYMENT_TOKEN_KEY: 32,
  /** The admin API credential (`x-admin-token`). */
  ADMIN_TOKEN: 16,
  /** This service's NATS user password. */
  NATS_PASSWORD: 16,
} as const;

export type SecretVariable = keyof typeof SECRET_MIN_LENGTH;

/**
 * Values published in this repository or its history, refused wherever the policy applies. Besides these, anything
 * containing "change-me" (or "changeme") is taken for a placeholder.
 */
export const KNOWN_PUBLIC_SECRETS: readonly string[] = [
  'dev-jwt-secret-change-me-0123456789abcdef',
  'dev-admin-token',
  'devReplicaSetKeyOnlyForKindChangeMe0123456789abcdefABCDEF',
  'dev-root-password',
  'dev-user-password',
  'dev-catalog-password',
  'dev-order-password',
  'dev-inventory-password',
  'dev-payment-password',
  'dev-notification-password',
  'admin',
];

const PLACEHOLDER = /change-?me/i;

/** Whether a listen address reaches only this machine (`localhost`, 127.0.0.0/8, ::1). */
export function isLoopbackHost(host: string): boolean {
  const bare = host
    .trim()
    .toLowerCase()
    .replace(/^\[(.*)\]$/, '$1');
  return bare === 'localhost' || bare === '::1' || /^127(\.\d{1,3}){3}$/.test(bare);
}

/** The settings the policy reads: the parsed config's (HOST after its default) over the raw environment's. */
export interface SecretPolicyInput {
  NODE_ENV?: string | undefined;
  HOST?: string | undefined;
  [variable: string]: unknown;
}

/** Why the policy applies to a process (production, or a non-loopback listen address), or undefined when it does not. */
export function secretPolicyReason(settings: SecretPolicyInput): string | undefined {
  if (settings.NODE_ENV === 'production') return 'NODE_ENV=production';
  // An unset HOST is the schemas' default, 127.0.0.1.
  if (settings.HOST !== undefined && !isLoopbackHost(settings.HOST)) return `HOST=${settings.HOST} is not a loopback address`;
  return undefined;
}

/** Why one value may not be used, or undefined when it may. */
export function weakSecretReason(variable: SecretVariable, value: string): string | undefined {
  if (KNOWN_PUBLIC_SECRETS.includes(value)) return 'is a known public default';
  if (PLACEHOLDER.test(value)) return 'is a placeholder (contains "change-me")';
  const minLength = SECRET_MIN_LENGTH[variable];
  if (value.length < minLength) return `is shorter than ${minLength} characters`;
  if (new Set(value).size === 1) return 'repeats a single character';
  return undefined;
}

/** The password in a MongoDB URL (`mongodb://user:password@host/...`), if it carries one. */
function mongoPassword(url: string): string | undefined {
  const match = /^mongodb(?:\+srv)?:\/\/[^:@/]*:([^@/]*)@/.exec(url);
  return match?.[1] === undefined ? undefined : decodeURIComponent(match[1]);
}

/**
 * Every secret in `settings` that may not be used, one line each naming the variable, when the policy applies (see
 * `secretPolicyReason`); an unset secret is not a violation (an unset ADMIN_TOKEN turns the admin API off; required
 * secrets are the config schemas' business).
 */
export function secretPolicyViolations(settings: SecretPolicyInput): string[] {
  const reason = secretPolicyReason(settings);
  if (!reason) return [];
  const violations: string[] = [];
  for (const variable of Object.keys(SECRET_MIN_LENGTH) as SecretVariable[]) {
    const value = settings[variable];
    if (typeof value !== 'string' || value === '') continue;
    const weak = weakSecretReason(variable, value);
    if (weak) violations.push(`${variable}: ${weak}; refused because ${reason} (generate one: openssl rand -hex 32)`);
  }
  const mongoUrl = settings.MONGODB_URL;
  const password = typeof mongoUrl === 'string' ? mongoPassword(mongoUrl) : undefined;
  if (password !== undefined && (KNOWN_PUBLIC_SECRETS.includes(password) || PLACEHOLDER.test(password))) {
    violations.push(`MONGODB_URL: its password is a known public default; refused because ${reason}`);
  }
  return violations;
}
