import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startInfra, type Infra } from '@tracemart/stack';

export const repoRoot = resolve(__dirname, '..', '..', '..');

/**
 * Real nats-server and FerretDB (on its own PostgreSQL cluster, copied from a cached template) on free ports,
 * with data in a temporary folder removed on stop. One NATS node unless asked for more: a component test is about one
 * service; the 3-node cluster (the stack's default) is exercised by packages/stack's tests and the end-to-end tests.
 */
export type TestInfra = Infra & { dataDir: string };

export async function startTestInfra(options: { natsNodes?: number } = {}): Promise<TestInfra> {
  const dataDir = mkdtempSync(join(tmpdir(), 'tracemart-test-'));
  const infra = await startInfra({ root: repoRoot, dataDir, freePorts: true, ephemeral: true, natsNodes: options.natsNodes ?? 1 }).catch((err: unknown) => {
    rmSync(dataDir, { recursive: true, force: true });
    throw err;
  });
  return {
    ...infra,
    dataDir,
    stop: async () => {
      await infra.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * The INTERNAL_AUTH_SECRET of the services a test file starts (`serviceEnv`, `spawnService`): random per test process,
 * so a test signs identity assertions with it (`identityHeaders`, `component.as`) and no fixed secret exists to copy.
 */
export const testInternalAuthSecret = randomBytes(32).toString('hex');

/** The environment a service's config is parsed from in a component test. */
export function serviceEnv(infra: Infra, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    NATS_URL: infra.natsUrl,
    NATS_REPLICAS: String(infra.natsReplicas),
    MONGODB_URL: infra.mongoUrl,
    PORT: '0',
    LOG_LEVEL: 'silent',
    JWT_SECRET: 'x'.repeat(32),
    INTERNAL_AUTH_SECRET: testInternalAuthSecret,
    ...extra,
  };
}

/** Polls until `probe` returns a value that `done` accepts, or fails after `timeoutMs`. */
export async function eventually<T>(probe: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T = await probe();
  while (!done(last)) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms; last value: ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 100));
    last = await probe();
  }
  return last;
}
