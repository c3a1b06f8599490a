/**
 * Writes docs/asyncapi.yaml (events, from the contracts) and docs/openapi.yaml (from the gateway's route table); see tools/docs.
 *   npm run docs           regenerate
 *   npm run docs:check     exit 1, naming each stale file, when the checked-in files differ (CI)
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { renderDocs } from '@tracemart/docs';

const root = resolve(__dirname, '..');
const check = process.argv.includes('--check');

let stale = 0;
for (const doc of renderDocs()) {
  const file = join(root, doc.path);
  const current = existsSync(file) ? readFileSync(file, 'utf8') : undefined;
  if (current === doc.content) continue;
  if (check) {
    process.stderr.write(`${doc.path} is stale: run \`npm run docs\` and commit the result\n`);
    stale += 1;
    continue;
  }
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, doc.content);
  process.stdout.write(`wrote ${doc.path}\n`);
}
if (stale > 0) process.exitCode = 1;
