/**
 * `npm run load:ci -- <smoke|degradation>`: the CI load checks against a running gateway (`npm start`),
 * with the CI profile of load-tests/scenarios.json (the short degradation preset, the 25 ms p95 floor)
 * under whatever the environment sets (DEGRADATION_SCALE=full for the full run, and every variable the
 * k6 scripts read).
 *
 * Environment: BASE_URL (http://127.0.0.1:8080, loopback only), ADMIN_TOKEN (that of the stack `npm start` runs, from .data/admin-token),
 * REPORT_DIR (reports), REPORT_STAMP (now). Exit code as k6's: 0 every threshold passed, 99 a threshold
 * failed, 107 the run could not start (gateway unreachable, admin API refused), 2 usage.
 */
import { resolve } from 'node:path';
import { readAdminToken } from '@tracemart/stack';
import { runDegradation } from './scenarios/degradation';
import { runSmoke } from './scenarios/smoke';
import { loadScenarioFile, withCiProfile } from './scenario-file';

const SUITES = { smoke: runSmoke, degradation: runDegradation } as const;

async function main(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const suite = argv[0];
  if (!suite || !(suite in SUITES)) {
    process.stderr.write(`usage: npm run load:ci -- <${Object.keys(SUITES).join('|')}>\n`);
    return 2;
  }
  const file = loadScenarioFile();
  const run = SUITES[suite as keyof typeof SUITES];
  const baseUrl = env.BASE_URL || 'http://127.0.0.1:8080';
  const reportDir = resolve(env.REPORT_DIR || 'reports');
  const say = (line: string) => process.stdout.write(`[load ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
  try {
    const result = await run({
      baseUrl,
      adminToken: env.ADMIN_TOKEN || readAdminToken(resolve('.data')) || '',
      env: withCiProfile(file, env),
      scenarioFile: file,
      reportDir,
      ...(env.REPORT_STAMP ? { stamp: env.REPORT_STAMP } : {}),
      progress: say,
    });
    process.stdout.write(`\n${result.text}`);
    return result.report.passed ? 0 : 99;
  } catch (err) {
    process.stderr.write(`${suite} could not run: ${err instanceof Error ? err.message : String(err)}\n`);
    return 107;
  }
}

main(process.argv.slice(2), process.env).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  },
);
