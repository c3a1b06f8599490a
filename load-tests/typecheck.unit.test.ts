import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * The k6 scripts are checked without running k6: `tsc -p load-tests/tsconfig.json` type-checks every
 * script against @types/k6 (npm run typecheck:k6, part of npm test). These cases prove that check can
 * fail: a copy of a real script with one wrong k6 call, checked with the same settings, must fail and
 * name the call.
 */

const loadTests = __dirname;
const tsc = resolve(loadTests, '..', 'node_modules', 'typescript', 'bin', 'tsc');
const scratch = mkdtempSync(join(tmpdir(), 'tracemart-k6-typecheck-'));
// The copies' `./lib/*.js` imports resolve to the real modules, and nothing is written into load-tests/.
symlinkSync(join(loadTests, 'lib'), join(scratch, 'lib'));

afterAll(() => {
  rmSync(scratch, { recursive: true, force: true });
});

function typecheck(project: string): { code: number | null; output: string } {
  const run = spawnSync(process.execPath, [tsc, '-p', project, '--pretty', 'false'], { encoding: 'utf8', timeout: 120_000 });
  return { code: run.status, output: `${run.stdout}${run.stderr}` };
}

/**
 * Writes `<scratch>/<name>` (beside a `lib` link to load-tests/lib, so its imports resolve as the real
 * scripts' do) and a project that checks only it, with load-tests/tsconfig.json's settings.
 */
function projectWith(name: string, source: string): string {
  const file = join(scratch, name);
  writeFileSync(file, source);
  const project = join(scratch, `${basename(name, '.js')}.tsconfig.json`);
  writeFileSync(project, JSON.stringify({ extends: join(loadTests, 'tsconfig.json'), include: [], files: [join(loadTests, 'k6-globals.d.ts'), file] }));
  return project;
}

describe('the k6 script type-check', () => {
  it('when every script under load-tests/ is checked against @types/k6, then there is no error', () => {
    const { code, output } = typecheck(join(loadTests, 'tsconfig.json'));
    expect(output).toBe('');
    expect(code).toBe(0);
  }, 120_000);

  it('when a script passes a string where k6 wants seconds, then the check fails naming the call', () => {
    const smoke = readFileSync(join(loadTests, 'smoke.js'), 'utf8');
    expect(smoke).toContain('sleep(0.3)');
    const name = `smoke.wrong-sleep-${process.pid}.fixture.js`;
    const { code, output } = typecheck(projectWith(name, smoke.replace('sleep(0.3)', "sleep('300ms')")));
    expect(code).not.toBe(0);
    expect(output).toMatch(new RegExp(`${name.replace(/\./g, '\\.')}\\(\\d+,\\d+\\): error TS2345: Argument of type 'string' is not assignable to parameter of type 'number'`));
  }, 120_000);

  it('when a script gives an http.get a body (k6 takes (url, params)), then the check fails', () => {
    const name = `wrong-get-${process.pid}.fixture.js`;
    const source = [
      "import http from 'k6/http';",
      'export default function () {',
      "  http.get('http://127.0.0.1:8080/api/products', JSON.stringify({ limit: 1 }), { tags: { name: 'GET /api/products' } });",
      '}',
      '',
    ].join('\n');
    const { code, output } = typecheck(projectWith(name, source));
    expect(code).not.toBe(0);
    expect(output).toMatch(/error TS2554: Expected 1-2 arguments, but got 3/);
  }, 120_000);

  it('when a script reads a field the checkout helper does not document, then the check fails', () => {
    const name = `wrong-field-${process.pid}.fixture.js`;
    const source = [
      "import { checkout } from './lib/checkout.js';",
      'export default function () {',
      "  const result = checkout({ token: 't' }, { items: [] });",
      '  return result.orderId;',
      '}',
      '',
    ].join('\n');
    const { code, output } = typecheck(projectWith(name, source));
    expect(code).not.toBe(0);
    expect(output).toMatch(/error TS(2339|2551): Property 'orderId' does not exist on type '\{ outcome: string; res: any; order: any; id: string; \}'/);
  }, 120_000);
});
