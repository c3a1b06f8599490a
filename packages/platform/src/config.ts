import { hostname } from 'node:os';
import { z } from 'zod';
import { adminTokenSchema } from './faults/config';
import { secretPolicyViolations } from './secret-policy';

/**
 * Settings every tracemart process shares. Services extend this with their own keys.
 * Config is parsed once, at start-up; nothing else reads process.env.
 */
export const baseConfigSchema = z.object({
  SERVICE_NAME: z.string().min(1),
  PORT: z.coerce.number().int().min(0).max(65535),
  HOST: z.string().default('127.0.0.1'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().positive().default(10_000),
  /** The admin API credential (faults, dead letters); unset turns the admin API off. */
  ADMIN_TOKEN: adminTokenSchema,
  /**
   * The gateway signs, and every service verifies, the identity assertions naming the user a request is for (see
   * IDENTITY_HEADER) with it. Shared by the gateway and the services only; required, so no process starts unprotected.
   */
  INTERNAL_AUTH_SECRET: z.string().min(32, 'INTERNAL_AUTH_SECRET must be at least 32 characters'),
  /**
   * The "bad version" switch for canary drills: a share of requests (0..1) answered with 5xx from start-up
   * on, as an error fault that lasts 7 days. 0 (the default) means none.
   */
  FAULT_ERROR_RATE: z.coerce.number().min(0).max(1).default(0),
  /** This process among the instances of its service (leases, partition ownership, logs); the stack sets `order-2`. */
  INSTANCE_ID: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,64}$/, 'letters, digits, _ . -')
    .default(`${hostname()}-${process.pid}`),
});

export const natsConfigSchema = z.object({
  /** One server, or every node of the cluster, comma-separated (the client fails over between them). */
  NATS_URL: z.string().min(1).default('nats://127.0.0.1:4222'),
  /** This service's NATS user and password, where the server requires them (the cluster: deploy/k8s/base/data/nats-auth.conf). */
  NATS_USER: z.string().min(1).optional(),
  NATS_PASSWORD: z.string().min(1).optional(),
  /**
   * Replicas of every stream and KV bucket this process provisions: 3 on a 3-node cluster (each write is acknowledged by
   * a Raft majority, 2 of 3), 1 on a single server.
   */
  NATS_REPLICAS: z.coerce.number().int().min(1).max(5).default(1),
  /** Lease of a partition (NATS KV): an instance that stops renewing loses its partitions to the others after this. */
  PARTITION_LEASE_TTL_MS: z.coerce.number().int().min(1_000).default(5_000),
});

export const mongoConfigSchema = z.object({
  MONGODB_URL: z.string().startsWith('mongodb').default('mongodb://127.0.0.1:27017'),
  MONGODB_DB: z.string().regex(/^[A-Za-z0-9_-]+$/, 'a plain database name'),
});

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Parses `env` with `schema`; on failure throws one error naming every bad variable. */
export function loadConfig<S extends z.ZodType>(schema: S, env: NodeJS.ProcessEnv = process.env): z.infer<S> {
  const result = schema.safeParse(env);
  if (result.success) {
    // A known public secret is refused in production and on a reachable address (secret-policy.ts).
    const violations = secretPolicyViolations({ ...env, ...(typeof result.data === 'object' && result.data !== null ? result.data : {}) });
    if (violations.length > 0) throw new ConfigError(`refused configuration:\n  ${violations.join('\n  ')}`);
    return result.data;
  }
  const problems = result.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`);
  throw new ConfigError(`invalid configuration:\n  ${problems.join('\n  ')}`);
}

/**
 * A service's config schema: the shared keys (base, NATS, MongoDB) with its own defaults for name, port and
 * database, extended by its own keys.
 */
export function serviceConfigSchema<S extends z.ZodRawShape>(defaults: { name: string; port: number }, shape: S) {
  return baseConfigSchema
    .extend(natsConfigSchema.shape)
    .extend(mongoConfigSchema.shape)
    .extend({
      SERVICE_NAME: z.string().default(defaults.name),
      PORT: z.coerce.number().int().min(0).max(65535).default(defaults.port),
      MONGODB_DB: z.string().default(`tracemart_${defaults.name}`),
    })
    .extend(shape);
}
