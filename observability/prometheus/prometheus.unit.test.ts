import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { defaultPorts, GATEWAY_METRICS_PORT } from '@tracemart/stack';

const here = (file: string): string => fileURLToPath(new URL(file, import.meta.url));
const PROMTOOL = ['/usr/bin/promtool', '/usr/local/bin/promtool'].find((path) => existsSync(path));

/** The local stack's default ports: the local Prometheus config must scrape exactly these (the gateway on its metrics port). */
const PORTS: Record<string, number> = { ...defaultPorts, gateway: GATEWAY_METRICS_PORT };

interface PrometheusConfig {
  global: { scrape_interval: string };
  rule_files: string[];
  scrape_configs: { job_name: string; static_configs?: { targets: string[] }[] }[];
}

const load = (file: string): PrometheusConfig => parse(readFileSync(here(file), 'utf8')) as PrometheusConfig;

function promtool(...args: string[]): string {
  return execFileSync(PROMTOOL as string, args, { encoding: 'utf8', stdio: 'pipe' });
}

describe('prometheus configuration', () => {
  it('when run locally, then each service is one job named after it on 127.0.0.1, scraped every 5s', () => {
    const config = load('./prometheus.local.yml');
    expect(config.global.scrape_interval).toBe('5s');
    const jobs = Object.fromEntries(config.scrape_configs.map((job) => [job.job_name, job.static_configs?.[0]?.targets]));
    expect(jobs).toEqual(Object.fromEntries(Object.entries(PORTS).map(([job, port]) => [job, [`127.0.0.1:${port}`]])));
  });

  it('when loaded, then the rule files resolve relative to the config file', () => {
    for (const file of ['./prometheus.local.yml', './prometheus.yml']) {
      for (const rules of load(file).rule_files) {
        expect(existsSync(resolve(dirname(here(file)), rules)), `${file}: ${rules}`).toBe(true);
      }
    }
  });

  it('when in the cluster, then there is one job per service', () => {
    const jobs = load('./prometheus.yml').scrape_configs.map((job) => job.job_name);
    expect(jobs).toEqual(expect.arrayContaining(Object.keys(PORTS)));
  });

  // Debian's promtool is built without Kubernetes discovery, so it can check
  // the local config but not prometheus.yml.
  it.skipIf(!PROMTOOL)('when checked by promtool, then the local config and all rules are valid', () => {
    promtool('check', 'config', here('./prometheus.local.yml'));
    promtool('check', 'rules', here('./rules/recording.yml'), here('./rules/alerts.yml'));
  });

  it.skipIf(!PROMTOOL)('when the checkout SLO burns, then the burn-rate alerts fire (promtool test rules)', () => {
    expect(promtool('test', 'rules', here('./rules/tests/checkout-slo.test.yml'))).toContain('SUCCESS');
  });
});
