import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

/** A program from the git-ignored `.tools/bin` (built by scripts/setup.sh), else from the system's folders. */
export function toolPath(root: string, name: string): string {
  const local = join(root, '.tools', 'bin', name);
  if (existsSync(local)) return local;
  for (const dir of ['/usr/sbin', '/usr/bin', '/usr/local/bin']) {
    if (existsSync(join(dir, name))) return join(dir, name);
  }
  throw new Error(`${name} is not installed: run \`npm run setup\` (scripts/setup.sh)`);
}

/** The oldest nats-server the stack runs on: subject transforms, partition() and multiple filter subjects. */
const NATS_SERVER_MIN: [number, number] = [2, 12];
const checked = new Set<string>();

/**
 * nats-server from `.tools/bin` only (scripts/setup.sh builds v2.12.3 there from the Go module proxy): a system one
 * is never used, since Debian's (2.9) lacks what the streams need, and would fail later with an obscure JetStream error.
 */
export function natsServerPath(root: string): string {
  const path = join(root, '.tools', 'bin', 'nats-server');
  const fix = 'run `npm run setup` (scripts/setup.sh builds nats-server v2.12.3 into .tools/bin)';
  if (!existsSync(path)) throw new Error(`${path} is missing: ${fix}`);
  if (!checked.has(path)) {
    const output = spawnSync(path, ['--version'], { encoding: 'utf8', timeout: 10_000 }).stdout ?? '';
    const match = /v(\d+)\.(\d+)\.\d+/.exec(output);
    const [major, minor] = [Number(match?.[1]), Number(match?.[2])];
    if (!match || major < NATS_SERVER_MIN[0] || (major === NATS_SERVER_MIN[0] && minor < NATS_SERVER_MIN[1])) {
      throw new Error(`${path} is ${output.trim() || 'not a working nats-server'}, older than ${NATS_SERVER_MIN.join('.')}: ${fix}`);
    }
    checked.add(path);
  }
  return path;
}
