import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnManaged, type ManagedProcess } from '@tracemart/stack';
import { repoRoot, spawnService, startTestInfra, type TestInfra } from '@tracemart/testing';

const random = () => randomBytes(32).toString('hex');
const started: ManagedProcess[] = [];

/** Starts a process's real main.ts as the images do (NODE_ENV=production), and resolves with its exit code and output. */
async function runUntilExit(dir: string, env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  const proc = spawnManaged({
    name: dir,
    command: process.execPath,
    args: ['--require', 'tsx/cjs', 'src/main.ts'],
    cwd: join(repoRoot, dir),
    env: { PATH: process.env.PATH, NODE_ENV: 'production', HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'info', INTERNAL_AUTH_SECRET: random(), ...env },
  });
  started.push(proc);
  // Refused at config load, before any connection: well within this, while a process that starts keeps running.
  const timeout = new Promise<'still running'>((resolve) => setTimeout(() => resolve('still running'), 20_000).unref());
  const code = await Promise.race([proc.exited, timeout]);
  if (code === 'still running') throw new Error(`${dir} did not refuse to start: ${proc.lines.slice(-5).join('\n')}`);
  return { code, output: proc.lines.join('\n') };
}

describe('a process started with a known public secret in production', () => {
  let infra: TestInfra;
  beforeAll(async () => {
    infra = await startTestInfra();
  });
  afterAll(async () => {
    for (const proc of started) await proc.stop();
    await infra?.stop();
  });

  it('when the user service gets the old dev JWT secret, then it exits non-zero naming JWT_SECRET', async () => {
    const { code, output } = await runUntilExit('services/user', {
      JWT_SECRET: 'dev-jwt-secret-change-me-0123456789abcdef',
      NATS_URL: infra.natsUrl,
      MONGODB_URL: infra.mongoUrl,
    });
    expect(code).not.toBe(0);
    expect(output).toMatch(/JWT_SECRET: is a known public default; refused because NODE_ENV=production/);
  });

  it('when the gateway gets the old dev admin token, then it exits non-zero naming ADMIN_TOKEN', async () => {
    const { code, output } = await runUntilExit('gateway', { JWT_SECRET: random(), ADMIN_TOKEN: 'dev-admin-token' });
    expect(code).not.toBe(0);
    expect(output).toMatch(/ADMIN_TOKEN: is a known public default; refused because NODE_ENV=production/);
  });

  it('when the catalog service gets a placeholder internal auth secret, then it exits non-zero naming INTERNAL_AUTH_SECRET', async () => {
    const { code, output } = await runUntilExit('services/catalog', {
      INTERNAL_AUTH_SECRET: 'internal-auth-secret-change-me-0123456789',
      NATS_URL: infra.natsUrl,
      MONGODB_URL: infra.mongoUrl,
    });
    expect(code).not.toBe(0);
    expect(output).toMatch(/INTERNAL_AUTH_SECRET: is a placeholder/);
  });

  it('when the same user service gets random secrets in production, then it starts and answers /readyz', async () => {
    const service = await spawnService('user', {
      NODE_ENV: 'production',
      JWT_SECRET: random(),
      ADMIN_TOKEN: random(),
      NATS_URL: infra.natsUrl,
      MONGODB_URL: infra.mongoUrl,
    });
    started.push(service);
    expect(service.child.exitCode).toBeNull();
    expect((await fetch(`${service.url}/readyz`)).status).toBe(200);
  });
});
