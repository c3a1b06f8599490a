import { describe, expect, it } from 'vitest';
import { parseCli } from '../src/options';

describe('chaos command line', () => {
  it('when nothing is given, then every fault runs once with the documented defaults', () => {
    const cli = parseCli([], {});
    expect(cli.chaos.faults).toHaveLength(20);
    expect(cli.chaos).toMatchObject({ repeats: 1, customers: 3, pauseMs: 10_000, exhaustMs: 5_000, recoveryTimeoutMs: 180_000, maxFaultsMs: 40 * 60_000 });
    expect(cli).toMatchObject({ prometheus: true, keepLogs: false, metricsPort: 0 });
    expect(cli.grafana).toBeUndefined();
  });

  it('when options are given, then they are bounded and converted to milliseconds', () => {
    const cli = parseCli(['--faults', 'ci,pause:payment', '--repeats', '3', '--pause-s', '2.5', '--no-prometheus', '--out', '/tmp/x'], {
      GRAFANA_URL: 'http://127.0.0.1:3000',
      GRAFANA_TOKEN: 't',
    });
    expect(cli.chaos.faults.map((f) => f.id)).toEqual(['kill:order', 'kill:payment', 'kill:nats-1', 'pause:payment']);
    expect(cli.chaos).toMatchObject({ repeats: 3, pauseMs: 2_500 });
    expect(cli).toMatchObject({ prometheus: false, out: '/tmp/x', grafana: { url: 'http://127.0.0.1:3000', token: 't' } });
  });

  it.each([
    [['--repeats', '0'], /--repeats/],
    [['--repeats', '11'], /--repeats/],
    [['--customers', 'many'], /--customers/],
    [['--faults', 'kill:order+payment+user'], /fault/],
    [['--bogus'], /Unknown option/],
  ])('when the command line is %j, then it is refused naming the problem', (argv, message) => {
    expect(() => parseCli(argv, {})).toThrow(message);
  });

  it('when only one of GRAFANA_URL and GRAFANA_TOKEN is set, then it is refused', () => {
    expect(() => parseCli([], { GRAFANA_URL: 'http://127.0.0.1:3000' })).toThrow(/go together/);
  });
});
