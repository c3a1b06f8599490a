import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ProcessGroup, type StopTier } from '../src/process-group';
import { waitUntil } from '../src/ports';
import type { ManagedProcess } from '../src/process';

/** A child that says `started <pid>` and runs until signalled; on SIGTERM it takes `exitDelayMs` to exit. */
const script = (exitDelayMs: number) =>
  `console.log('started', process.pid); process.on('SIGTERM', () => setTimeout(() => process.exit(0), ${exitDelayMs})); setInterval(() => {}, 1000);`;
const started = (proc: ManagedProcess) => waitUntil(`${proc.name} started`, () => Promise.resolve(proc.lines.some((l) => l.startsWith('started'))), 10_000, 20);

let dir: string;
let group: ProcessGroup | undefined;
afterEach(async () => {
  await group?.stop();
  group = undefined;
  rmSync(dir, { recursive: true, force: true });
});

function spawn(g: ProcessGroup, name: string, tier: StopTier, exitDelayMs = 0): ManagedProcess {
  return g.spawn({ name, command: process.execPath, args: ['-e', script(exitDelayMs)], logFile: join(dir, `${name}.log`) }, started, tier);
}

describe('restarting a process of the stack', () => {
  it('when a process was killed with SIGKILL, then restart runs the same command again, appends to its log and replaces it by name', async () => {
    dir = mkdtempSync(join(tmpdir(), 'group-'));
    group = new ProcessGroup();
    const first = spawn(group, 'node-a', 'infra');
    await group.ready('node-a');
    first.child.kill('SIGKILL');
    await first.exited;
    const second = await group.restart('node-a');
    expect(second.child.pid).not.toBe(first.child.pid);
    expect(second.child.exitCode).toBeNull();
    expect(group.processes.get('node-a')).toBe(second);
    // exited() resolves when the log stream has been ended; the new process writes its line after that.
    await waitUntil(
      'two start lines',
      () =>
        Promise.resolve(
          readFileSync(join(dir, 'node-a.log'), 'utf8')
            .split('\n')
            .filter((l) => l.startsWith('started')).length === 2,
        ),
      5_000,
      20,
    );
  });

  it('when a process still runs, then restart stops it first', async () => {
    dir = mkdtempSync(join(tmpdir(), 'group-'));
    group = new ProcessGroup();
    const first = spawn(group, 'node-b', 'app');
    await group.ready('node-b');
    const second = await group.restart('node-b');
    expect(first.child.signalCode ?? first.child.exitCode).not.toBeNull();
    expect(second.child.exitCode).toBeNull();
  });

  it('when the name is unknown, then restart says which names there are', async () => {
    dir = mkdtempSync(join(tmpdir(), 'group-'));
    group = new ProcessGroup();
    spawn(group, 'nats-1', 'infra');
    await expect(group.restart('nats-9')).rejects.toThrow('no process named nats-9 in this stack (there are: nats-1)');
  });

  it('when the stack stops, then apps have exited before infrastructure is asked to stop, and storage stops last', async () => {
    dir = mkdtempSync(join(tmpdir(), 'group-'));
    group = new ProcessGroup();
    const order: string[] = [];
    // The app takes longest to exit: were the tiers stopped together, it would exit last.
    for (const [name, tier, delay] of [
      ['service', 'app', 300],
      ['broker', 'infra', 0],
      ['database', 'storage', 0],
    ] as const) {
      void spawn(group, name, tier, delay).exited.then(() => order.push(name));
    }
    await Promise.all(['service', 'broker', 'database'].map((name) => group!.ready(name)));
    await group.stop();
    expect(order).toEqual(['service', 'broker', 'database']);
  });
});
