import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, natsServerPath, spawnManaged, waitUntil, canConnect, type ManagedProcess } from '@tracemart/stack';
import { natsUsers, passwordVariable } from '../scripts/nats-permissions';
import { ROOT } from './support';

/** A single nats-server with JetStream and the cluster's users and permissions (the committed nats-auth.conf). */
export interface AuthNats {
  url: string;
  /** Each user's random password, by user name. */
  passwords: Record<string, string>;
  /** What a user connects with: NATS_URL, NATS_USER, NATS_PASSWORD. */
  envFor: (user: string) => Record<string, string>;
  /** The server's permission violations so far ("Publish Violation - Subject ..."), one per line. */
  violations: () => string[];
  process: ManagedProcess;
  stop: () => Promise<void>;
}

/**
 * Starts nats-server on a free loopback port with deploy/k8s/base/data/nats-auth.conf included as the cluster's nats.conf
 * includes it, and passwords in its environment as the StatefulSet sets them (a letter first, as make-secrets.sh makes
 * them: nats-server parses a variable's value, and a leading digit would make it a number).
 */
export async function startAuthNats(): Promise<AuthNats> {
  const dir = mkdtempSync(join(tmpdir(), 'tracemart-nats-auth-'));
  const port = await freePort();
  copyFileSync(join(ROOT, 'deploy/k8s/base/data/nats-auth.conf'), join(dir, 'nats-auth.conf'));
  writeFileSync(join(dir, 'nats.conf'), [`listen: 127.0.0.1:${port}`, `jetstream { store_dir: ${JSON.stringify(join(dir, 'js'))} }`, 'include ./nats-auth.conf', ''].join('\n'));
  const passwords = Object.fromEntries(natsUsers().map(({ user }) => [user, `n${randomBytes(24).toString('hex')}`]));
  const env = { PATH: process.env.PATH, ...Object.fromEntries(Object.entries(passwords).map(([user, password]) => [passwordVariable(user), password])) };
  const proc = spawnManaged({ name: 'nats-auth', command: natsServerPath(ROOT), args: ['-c', join(dir, 'nats.conf')], env });
  const stop = async () => {
    await proc.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitUntil(
      'nats-server with the cluster users',
      () => canConnect(port),
      15_000,
      100,
      () => (proc.child.exitCode !== null ? proc.lines.slice(-3).join('\n') : undefined),
    );
  } catch (err) {
    await stop();
    throw err;
  }
  const url = `nats://127.0.0.1:${port}`;
  return {
    url,
    passwords,
    envFor: (user) => ({ NATS_URL: url, NATS_USER: user, NATS_PASSWORD: passwords[user] ?? '' }),
    violations: () => proc.lines.filter((line) => / (Publish|Subscription) Violation /.test(line)),
    process: proc,
    stop,
  };
}
