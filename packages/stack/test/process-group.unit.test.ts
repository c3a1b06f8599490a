import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { ProcessGroup, type ProcessGroupOptions, type StopTier } from '../src/process-group';
import { waitUntil } from '../src/ports';
import type { ManagedProcess } from '../src/process';
import type { SupervisorEvent } from '../src/supervisor';

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

/** A group whose supervisor waits 100 ms, then 200, 400... (no jitter) and records what it reports. */
function supervised(events: SupervisorEvent[], options: ProcessGroupOptions = {}): ProcessGroup {
  return new ProcessGroup({ backoff: { initialMs: 100, jitter: 0 }, log: (event) => events.push(event), ...options });
}

const startLines = (name: string) =>
  readFileSync(join(dir, `${name}.log`), 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('started')).length;

async function restartsOf(g: ProcessGroup, name: string): Promise<number | undefined> {
  const metric = await g.registry.getSingleMetric('tracemart_process_restarts_total')?.get();
  return metric?.values.find((v) => v.labels.process === name)?.value;
}

// Real child processes: longer than a unit test's 5 s on a busy machine.
describe('restarting a process of the stack', { timeout: 30_000 }, () => {
  it('when a process was killed with SIGKILL, then restart runs the same command again, appends to its log and replaces it by name', async () => {
    dir = mkdtempSync(join(tmpdir(), 'group-'));
    group = new ProcessGroup();
    const first = spawn(group, 'node-a', 'infra');
    await group.ready('node-a');
    await group.kill('node-a', 'SIGKILL', { restart: false });
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

// Real child processes and backoffs: longer than a unit test's 5 s on a busy machine.
describe('supervising the processes of the stack', { timeout: 30_000 }, () => {
  it('when a process is killed with SIGKILL from outside, then after the backoff it runs again as it was, under its name, counted and logged', async () => {
    dir = mkdtempSync(join(tmpdir(), 'group-'));
    const events: SupervisorEvent[] = [];
    group = supervised(events);
    const first = spawn(group, 'svc', 'app');
    await group.ready('svc');
    expect(await restartsOf(group, 'svc')).toBe(0);

    process.kill(first.child.pid as number, 'SIGKILL');
    await waitUntil('svc restarted and ready', async () => group?.processes.get('svc') !== first && (await group!.ready('svc').then(() => true)), 5_000, 20);

    const second = group.processes.get('svc') as ManagedProcess;
    expect(second.child.pid).not.toBe(first.child.pid);
    expect(second.child.exitCode).toBeNull();
    await waitUntil('two start lines in one log', () => Promise.resolve(startLines('svc') === 2), 5_000, 20);
    expect(await restartsOf(group, 'svc')).toBe(1);
    expect(events[0]).toMatchObject({ event: 'process.crashed', process: 'svc', reason: 'signal SIGKILL', attempt: 1, delayMs: 100, pid: first.child.pid });
    expect(events[1]).toMatchObject({ event: 'process.restarted', process: 'svc', reason: 'signal SIGKILL', attempt: 1, delayMs: 100, pid: second.child.pid });
    await waitUntil('ready reported', () => Promise.resolve(events.some((e) => e.event === 'process.ready')), 5_000, 20);
  });

  it('when a process keeps crashing, then each wait doubles, and stop() calls off the restart still waiting', async () => {
    dir = mkdtempSync(join(tmpdir(), 'group-'));
    const events: SupervisorEvent[] = [];
    group = supervised(events);
    group.spawn({ name: 'crashy', command: process.execPath, args: ['-e', "console.log('started'); setTimeout(() => process.exit(3), 50)"] }, started, 'app');
    await waitUntil('three restarts', () => Promise.resolve(events.filter((e) => e.event === 'process.restarted').length === 3), 20_000, 10);
    const crashes = events.filter((e) => e.event === 'process.crashed');
    expect(crashes.slice(0, 3).map((e) => [e.reason, e.attempt, e.delayMs])).toEqual([
      ['exit code 3', 1, 100],
      ['exit code 3', 2, 200],
      ['exit code 3', 3, 400],
    ]);
    expect(await restartsOf(group, 'crashy')).toBe(3);

    await waitUntil('fourth crash', () => Promise.resolve(events.filter((e) => e.event === 'process.crashed').length === 4), 10_000, 10);
    await group.stop();
    await sleep(1_000); // beyond the 800 ms the fourth restart was waiting
    expect(events.filter((e) => e.event === 'process.restarted')).toHaveLength(3);
  });

  it('when processes are stopped, restarted by name or killed to stay down, then the supervisor starts none of them and counts nothing', async () => {
    dir = mkdtempSync(join(tmpdir(), 'group-'));
    const events: SupervisorEvent[] = [];
    group = supervised(events);
    for (const name of ['restarted', 'held', 'stopped']) spawn(group, name, 'app');
    await Promise.all(['restarted', 'held', 'stopped'].map((name) => group!.ready(name)));

    await group.restart('restarted');
    const held = await group.kill('held', 'SIGKILL', { restart: false });
    await group.processes.get('stopped')?.stop();
    await sleep(500);
    expect(events).toEqual([]);
    expect(group.processes.get('held')).toBe(held);
    expect(held.child.signalCode).toBe('SIGKILL');

    // Held down until restart(name); then supervised again.
    const back = await group.restart('held');
    process.kill(back.child.pid as number, 'SIGKILL');
    await waitUntil('held restarted by the supervisor', () => Promise.resolve(group?.processes.get('held') !== back), 5_000, 20);

    await group.stop();
    await sleep(500);
    expect(events.map((e) => `${e.event} ${e.process}`).filter((e) => !e.startsWith('process.ready'))).toEqual(['process.crashed held', 'process.restarted held']);
    expect(await Promise.all(['restarted', 'held', 'stopped'].map((name) => restartsOf(group!, name)))).toEqual([0, 1, 0]);
  });

  it('when a kill that keeps the process down comes during the backoff, then the waiting restart is called off', async () => {
    dir = mkdtempSync(join(tmpdir(), 'group-'));
    const events: SupervisorEvent[] = [];
    group = supervised(events, { backoff: { initialMs: 300, jitter: 0 } });
    const first = spawn(group, 'svc', 'app');
    await group.ready('svc');
    process.kill(first.child.pid as number, 'SIGKILL');
    await first.exited;
    await group.kill('svc', 'SIGKILL', { restart: false });
    await sleep(700);
    expect(group.processes.get('svc')).toBe(first);
    expect(events.map((e) => e.event)).toEqual(['process.crashed']);
  });

  it('when supervision is off, then a killed process stays down', async () => {
    dir = mkdtempSync(join(tmpdir(), 'group-'));
    const events: SupervisorEvent[] = [];
    group = supervised(events, { supervise: false });
    const first = spawn(group, 'svc', 'app');
    await group.ready('svc');
    await group.kill('svc');
    await sleep(400);
    expect(group.processes.get('svc')).toBe(first);
    expect(events).toEqual([]);
  });
});
