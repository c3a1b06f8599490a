import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { renderLocalPrometheusConfig } from '../src/prometheus';

const root = resolve(__dirname, '..', '..', '..');

describe('the local Prometheus configuration', () => {
  it('when a service runs several instances, then its job scrapes every one of them and the other jobs keep their one target', () => {
    const config = parse(renderLocalPrometheusConfig(root, { order: [3003, 3103], gateway: 8080 })) as {
      scrape_configs: { job_name: string; static_configs: { targets: string[] }[] }[];
    };
    const targets = Object.fromEntries(config.scrape_configs.map((job) => [job.job_name, job.static_configs[0]?.targets]));
    expect(targets.order).toEqual(['127.0.0.1:3003', '127.0.0.1:3103']);
    expect(targets.gateway).toEqual(['127.0.0.1:8080']);
    expect(targets.payment).toEqual(['127.0.0.1:3005']);
  });

  it('when the stack serves its own metrics, then they are one more job, stack, on its port', () => {
    const config = parse(renderLocalPrometheusConfig(root, { gateway: 8080 }, { stack: 9400 })) as {
      scrape_configs: { job_name: string; static_configs: { targets: string[] }[] }[];
    };
    const jobs = config.scrape_configs.map((job) => job.job_name);
    expect(jobs.at(-1)).toBe('stack');
    expect(config.scrape_configs.at(-1)?.static_configs).toEqual([{ targets: ['127.0.0.1:9400'] }]);
    expect(() => renderLocalPrometheusConfig(root, {}, { gateway: 1 })).toThrow('already has a job gateway');
  });
});
