import { describe, expect, it } from 'vitest';
import { CRASH_BACKOFF, CrashLoop, crashDelayMs, supervisorLogLine } from '../src/supervisor';

const noJitter = () => 0.5;

describe('the crash backoff schedule', () => {
  it('when a process keeps crashing, then the wait starts at 0.5 s and doubles up to 30 s', () => {
    const delays = Array.from({ length: 10 }, (_, i) => crashDelayMs(CRASH_BACKOFF, i + 1, noJitter));
    expect(delays).toEqual([500, 1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000, 30_000, 30_000]);
  });

  it('when jittered, then each wait stays within ±20% of its step and never above the cap', () => {
    expect(crashDelayMs(CRASH_BACKOFF, 1, () => 0)).toBe(400);
    expect(crashDelayMs(CRASH_BACKOFF, 1, () => 0.999_999)).toBe(600);
    expect(crashDelayMs(CRASH_BACKOFF, 6, () => 0.999_999)).toBe(19_200);
    expect(crashDelayMs(CRASH_BACKOFF, 7, () => 0.999_999)).toBe(30_000);
    expect(crashDelayMs(CRASH_BACKOFF, 7, () => 0)).toBe(24_000);
  });

  it('when a restarted process crashes again soon, then the attempts count on; once it stayed up 30 s, they start over', () => {
    let now = 0;
    const loop = new CrashLoop(CRASH_BACKOFF, () => now, noJitter);
    now = 60_000;
    expect(loop.crashed()).toEqual({ attempt: 1, delayMs: 500, uptimeMs: 60_000 });
    for (const [attempt, delayMs] of [
      [2, 1_000],
      [3, 2_000],
    ]) {
      loop.started();
      now += 5_000;
      expect(loop.crashed()).toMatchObject({ attempt, delayMs, uptimeMs: 5_000 });
    }
    loop.started();
    now += 30_000;
    expect(loop.crashed()).toMatchObject({ attempt: 1, delayMs: 500 });
  });

  it('when the process is restarted on purpose, then its crash loop is forgotten', () => {
    let now = 0;
    const loop = new CrashLoop(CRASH_BACKOFF, () => now, noJitter);
    loop.crashed();
    loop.crashed();
    loop.reset();
    now += 1_000;
    expect(loop.crashed()).toMatchObject({ attempt: 1, delayMs: 500, uptimeMs: 1_000 });
  });
});

describe('the supervisor log line', () => {
  it('when a crash is reported, then it is one JSON object naming the process, the reason, the attempt and the delay', () => {
    const line = supervisorLogLine(
      { event: 'process.crashed', process: 'order', reason: 'signal SIGKILL', pid: 42, attempt: 2, delayMs: 1_000, uptimeMs: 3_000 },
      new Date('2026-12-01T22:00:00Z'),
    );
    expect(line).not.toContain('\n');
    expect(JSON.parse(line)).toEqual({
      level: 'warn',
      time: '2026-12-01T22:00:00.000Z',
      component: 'supervisor',
      msg: 'process exited unexpectedly; restarting after backoff',
      event: 'process.crashed',
      process: 'order',
      reason: 'signal SIGKILL',
      pid: 42,
      attempt: 2,
      delayMs: 1_000,
      uptimeMs: 3_000,
    });
  });
});
