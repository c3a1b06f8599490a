/**
 * `npm run chaos -- [options]` (see USAGE in options.ts): starts its own stack on free loopback ports, runs the faults
 * under checkout load, checks the invariants, prints the report and writes it (report.json, report.md, events.jsonl)
 * into .data/chaos/<timestamp>/ (git-ignored). The stack's data lives in a temporary folder and is deleted at the end;
 * its logs are copied into the report folder when the run fails or with --keep-logs.
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startStack, toolPath, type Stack } from '@tracemart/stack';
import { parseCli, USAGE, type CliOptions } from './options';
import { addChaosScrapeJob } from './prometheus-job';
import { renderMarkdown, writeRunReport } from './report';
import { runChaos } from './run';
import { FaultSignals } from './signals';

const root = resolve(__dirname, '..', '..', '..');
const say = (line: string) => process.stdout.write(`[chaos ${new Date().toISOString().slice(11, 23)}] ${line}\n`);
/** Whether the stack finds the program (.tools/bin, else the system's folders). */
const installed = (name: string) => {
  try {
    toolPath(root, name);
    return true;
  } catch {
    return false;
  }
};
const stamp = () =>
  new Date()
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');

async function main(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  let cli: CliOptions;
  try {
    cli = parseCli(argv, env);
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n\n${USAGE}`);
    return 2;
  }
  if (cli.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const runDir = resolve(cli.out ?? join(root, '.data', 'chaos', stamp()));
  mkdirSync(runDir, { recursive: true });
  const dataDir = mkdtempSync(join(tmpdir(), 'tracemart-chaos-'));
  const interrupt = new AbortController();
  const onSignal = () => {
    say('interrupted: no further fault; stopping the load, checking, then stopping the stack');
    interrupt.abort();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const signals = new FaultSignals({ say, eventsFile: join(runDir, 'events.jsonl'), ...(cli.grafana ? { grafana: cli.grafana } : {}) });
  let stack: Stack | undefined;
  let passed = false;
  try {
    const metricsPort = await signals.serve(cli.metricsPort);
    const prometheus = cli.prometheus && installed('prometheus');
    say(`starting the stack (data in ${dataDir}${prometheus ? ', with Prometheus' : ''}); report into ${runDir}`);
    stack = await startStack({ root, dataDir, freePorts: true, ephemeral: true, prometheus, readyTimeoutMs: 180_000 });
    say(`stack up: gateway ${stack.gatewayUrl}, ${stack.natsNodes.length} NATS node(s), the runner's metrics on http://127.0.0.1:${metricsPort}/metrics`);
    if (stack.prometheusUrl) {
      const why = addChaosScrapeJob(stack, dataDir, metricsPort);
      say(why ? `Prometheus will not see the faults: ${why}` : `Prometheus ${stack.prometheusUrl} scrapes the runner as job chaos`);
    }
    const report = await runChaos(stack, cli.chaos, {
      signals,
      say,
      command: ['npm run chaos', ...(argv.length > 0 ? ['--', ...argv] : [])].join(' '),
      signal: interrupt.signal,
    });
    const files = writeRunReport(runDir, report);
    process.stdout.write(`\n${renderMarkdown(report)}\n`);
    say(`report: ${files.markdown} and ${files.json}`);
    passed = report.passed;
    return passed ? 0 : 1;
  } catch (err) {
    say(`the run could not complete: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    return 2;
  } finally {
    await stack?.stop().catch((err: unknown) => say(`stopping the stack: ${String(err)}`));
    await signals.close();
    if ((!passed || cli.keepLogs) && existsSync(join(dataDir, 'logs'))) {
      cpSync(join(dataDir, 'logs'), join(runDir, 'logs'), { recursive: true });
      say(`process logs copied to ${join(runDir, 'logs')}`);
    }
    rmSync(dataDir, { recursive: true, force: true });
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

main(process.argv.slice(2), process.env).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 2;
  },
);
