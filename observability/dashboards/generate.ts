// Writes the dashboards defined in ./src to observability/grafana/dashboards/.
//   npx tsx observability/dashboards/generate.ts          write the JSON files
//   npx tsx observability/dashboards/generate.ts --check  exit 1 if any file is stale
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { allDashboards, render } from './src/index.js';

export const OUTPUT_DIR = fileURLToPath(new URL('../grafana/dashboards/', import.meta.url));

/** Files whose content on disk differs from what would be generated, plus JSON files nothing generates. */
export function staleFiles(): string[] {
  const expected = new Map(allDashboards().map(({ file, dashboard }) => [file, render(dashboard)]));
  const stale = [...expected].filter(([file, content]) => !existsSync(OUTPUT_DIR + file) || readFileSync(OUTPUT_DIR + file, 'utf8') !== content).map(([file]) => file);
  const orphans = existsSync(OUTPUT_DIR) ? readdirSync(OUTPUT_DIR).filter((file) => file.endsWith('.json') && !expected.has(file)) : [];
  return [...stale, ...orphans];
}

function write(): void {
  mkdirSync(OUTPUT_DIR, { recursive: true });
  for (const { file, dashboard } of allDashboards()) writeFileSync(OUTPUT_DIR + file, render(dashboard));
}

function main(argv: readonly string[]): number {
  if (argv.includes('--check')) {
    const stale = staleFiles();
    for (const file of stale) process.stderr.write(`stale: observability/grafana/dashboards/${file}\n`);
    if (stale.length > 0) process.stderr.write('run: npx tsx observability/dashboards/generate.ts\n');
    return stale.length > 0 ? 1 : 0;
  }
  write();
  return 0;
}

// Only when run as a script, so the test can import staleFiles().
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  process.exitCode = main(process.argv.slice(2));
}
