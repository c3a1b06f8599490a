import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { cpuSeconds, processTree, pssMiB, treeCpuSeconds, treePssMiB, rssMiB } from './procfs';

describe('process trees in /proc', () => {
  it('when a process has children that burn CPU, then its tree counts them and the process alone does not', async () => {
    // A shell with two busy children, each counting to a bound, then a sleep that the test ends early.
    const shell = spawn('sh', ['-c', 'for n in 1 2; do (i=0; while [ $i -lt 3000000 ]; do i=$((i+1)); done) & done; sleep 20'], { stdio: 'ignore' });
    try {
      const pid = shell.pid as number;
      await new Promise((r) => setTimeout(r, 800));
      const tree = processTree(pid);
      expect(tree[0]).toBe(pid);
      expect(tree.length).toBeGreaterThanOrEqual(3);
      // The children's CPU shows in the tree and not in the shell (waited for, up to 10 s, on a busy machine).
      const deadline = Date.now() + 10_000;
      let extra = 0;
      while (extra <= 0.2 && Date.now() < deadline) {
        extra = (treeCpuSeconds(pid) ?? 0) - (cpuSeconds(pid) ?? 0);
        if (extra <= 0.2) await new Promise((r) => setTimeout(r, 100));
      }
      expect(extra).toBeGreaterThan(0.2);
      expect(treePssMiB(pid)).toBeGreaterThan(0);
      expect(treePssMiB(pid)).toBeLessThanOrEqual((rssMiB(pid) ?? 0) * tree.length + 1);
    } finally {
      for (const member of processTree(shell.pid as number).reverse()) process.kill(member, 'SIGKILL');
    }
  });

  it('when a process is gone, then its tree has no figures', () => {
    expect(treeCpuSeconds(2 ** 22 + 7)).toBeUndefined();
    expect(treePssMiB(2 ** 22 + 7)).toBeUndefined();
  });

  it('when a Node process shares its code pages with another, then its PSS is below its RSS', async () => {
    const other = spawn(process.execPath, ['-e', 'setTimeout(() => undefined, 20000)'], { stdio: 'ignore' });
    try {
      await new Promise((r) => setTimeout(r, 500));
      const pss = pssMiB(process.pid) ?? 0;
      expect(pss).toBeGreaterThan(0);
      expect(pss).toBeLessThan(rssMiB(process.pid) ?? 0);
      expect(pssMiB(999_999_999)).toBeUndefined();
    } finally {
      other.kill();
    }
  });
});
