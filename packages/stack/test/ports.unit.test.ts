import { describe, expect, it } from 'vitest';
import { waitUntil } from '../src/ports';

describe('waitUntil', () => {
  it('when the check throws, then it counts as not yet and the wait ends at the timeout naming what it waited for', async () => {
    let calls = 0;
    const check = () => {
      calls++;
      return Promise.reject(new Error('connection refused'));
    };
    await expect(waitUntil('the thing', check, 300, 20)).rejects.toThrow('timed out after 300 ms waiting for the thing');
    expect(calls).toBeGreaterThan(3);
  });

  it('when failWhen says the process is gone, then the wait ends at once with its reason, not at the timeout', async () => {
    const started = Date.now();
    let exited = false;
    setTimeout(() => (exited = true), 50);
    await expect(
      waitUntil(
        'order /readyz',
        () => Promise.resolve(false),
        30_000,
        10,
        () => (exited ? 'exited with 1: boom' : undefined),
      ),
    ).rejects.toThrow('order /readyz: exited with 1: boom');
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('when the check passes, then it resolves', async () => {
    let n = 0;
    await expect(waitUntil('third time', () => Promise.resolve(++n >= 3), 5_000, 5)).resolves.toBeUndefined();
  });
});
