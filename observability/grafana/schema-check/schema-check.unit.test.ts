import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * Every generated dashboard against Grafana's dashboard schema, as the Grafana Foundation SDK (Go)
 * generates it from Grafana's schema definitions: strict decoding (unknown fields, wrong types, panel
 * options, field configs and queries by their plugin's schema) plus the schema's constraints.
 * The checker is built by `scripts/setup.sh` into .tools/bin (see main.go beside this file).
 */

const here = fileURLToPath(new URL('.', import.meta.url));
const repoRoot = join(here, '..', '..', '..');
const checker = join(repoRoot, '.tools', 'bin', 'grafana-schema-check');
const dashboardsDir = join(here, '..', 'dashboards');
const dashboardFiles = readdirSync(dashboardsDir)
  .filter((f) => f.endsWith('.json'))
  .map((f) => join(dashboardsDir, f));
const scratch = mkdtempSync(join(tmpdir(), 'tracemart-schema-check-'));

afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function runChecker(files: string[]): { code: number | null; output: string } {
  const run = spawnSync(checker, files, { encoding: 'utf8', timeout: 30_000 });
  return { code: run.status, output: `${run.stdout}${run.stderr}` };
}

type Json = Record<string, unknown>;

/** A copy of the saga dashboard with one change made to its first panel of `type`. */
function mutated(name: string, type: string, change: (panel: Json) => void): string {
  const board = JSON.parse(readFileSync(join(dashboardsDir, 'saga.json'), 'utf8')) as { panels: Json[] };
  const panel = board.panels.find((p) => p.type === type);
  if (!panel) throw new Error(`saga.json has no ${type} panel`);
  change(panel);
  const file = join(scratch, `${name}.json`);
  writeFileSync(file, JSON.stringify(board));
  return file;
}

describe("the dashboards against Grafana's schema", () => {
  it('when checked, then the checker exists (built by npm run setup)', () => {
    expect(existsSync(checker), `${checker}: run \`npm run setup\``).toBe(true);
  });

  it('when every generated dashboard is decoded strictly and validated, then all are valid', () => {
    expect(dashboardFiles.length).toBeGreaterThanOrEqual(5);
    const run = runChecker(dashboardFiles);
    expect(run.output).not.toContain('INVALID');
    expect(run.code, run.output).toBe(0);
    expect(run.output.match(/^valid /gm)?.length).toBe(dashboardFiles.length);
  });

  it.each([
    ['a typo in a time series legend option', 'timeseries', (p: Json) => ((p.options as { legend: Json }).legend.displayMod = 'list'), "unexpected field 'displayMod'"],
    ['a typo in a Prometheus query', 'timeseries', (p: Json) => (((p.targets as Json[])[0] as Json).exprr = 'up'), "unexpected field 'exprr'"],
    ['a string where the grid wants a number', 'timeseries', (p: Json) => ((p.gridPos as Json).w = 'wide'), 'gridPos.w'],
    ['a typo in a stat option', 'stat', (p: Json) => ((p.options as Json).colorMod = 'value'), "unexpected field 'colorMod'"],
  ])('when a dashboard has %s, then it is rejected and the field is named', (name, type, change, message) => {
    const run = runChecker([mutated(name.replaceAll(' ', '-'), type, change)]);
    expect(run.code, run.output).toBe(1);
    expect(run.output).toContain(message);
  });
});
