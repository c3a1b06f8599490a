import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '@tracemart/testing';

/**
 * k6, Grafana, Tempo and Loki are AGPL and must never be fetched or built on the machines that build
 * tracemart: tracemart ships k6 scripts and configs for them, and users install those programs themselves.
 * This test reads every file that installs or builds something here (setup and deploy scripts, CI, npm
 * scripts, the Go tool modules with their checksums) and fails when one names their Go modules again.
 */

const AGPL_PROGRAM = new RegExp(
  [
    // Go modules, under their current and old paths.
    String.raw`go\.k6\.io/k6`,
    String.raw`github\.com/grafana/(k6|tempo|loki|grafana)(?![\w.-])`,
    // Packages, downloads and images fetched onto this machine.
    String.raw`apt(-get)? install[^\n]*\bk6\b`,
    String.raw`dl\.k6\.io`,
    String.raw`docker (pull|run)[^\n]*grafana/(k6|tempo|loki|grafana)\b`,
  ].join('|'),
);

/** Files (recursively) under the given paths, relative to the repository. */
function filesUnder(...paths: string[]): string[] {
  return paths.flatMap((path) => {
    const full = join(repoRoot, path);
    let stat;
    try {
      stat = statSync(full);
    } catch {
      return [];
    }
    if (!stat.isDirectory()) return [path];
    return readdirSync(full).flatMap((entry) => filesUnder(join(path, entry)));
  });
}

/** Lines that name an AGPL module, as `file:line: text`. */
function agplMentions(files: string[], read: (file: string) => string): string[] {
  return files.flatMap((file) =>
    read(file)
      .split('\n')
      .flatMap((line, i) => (AGPL_PROGRAM.test(line) ? [`${file}:${i + 1}: ${line.trim()}`] : [])),
  );
}

const installers = () =>
  filesUnder(
    'scripts',
    'deploy/scripts',
    '.ci',
    'tools',
    'package.json',
    'observability/otel-collector/builder.yaml',
    'observability/grafana/schema-check/go.mod',
    'observability/grafana/schema-check/go.sum',
  );

describe('a toolchain of permissive licences', () => {
  it('when the setup, build and CI files are read, then none of them installs k6, Grafana, Tempo or Loki', () => {
    const files = installers();
    expect(files).toEqual(expect.arrayContaining(['scripts/setup.sh', 'scripts/build-telemetry.sh', '.ci/run', 'package.json', 'tools/jaeger/go.mod']));
    expect(agplMentions(files, (file) => readFileSync(join(repoRoot, file), 'utf8'))).toEqual([]);
  });

  it('when a script brings one back, then the check names the file and line', () => {
    const script = [
      'set -e',
      'GOBIN=.tools/bin go install go.k6.io/k6@v1.8.1',
      'go mod download github.com/grafana/loki/v3@v3.7.8',
      'apt-get install -y k6',
      'curl -fsSL https://dl.k6.io/key.gpg',
      'docker pull grafana/tempo:2.6.1',
      'echo k6 is for users to install',
      '',
    ].join('\n');
    const sdk = 'require github.com/grafana/grafana-foundation-sdk/go v0.0.1\n';
    const files = { 'scripts/setup.sh': script, 'observability/grafana/schema-check/go.mod': sdk };
    expect(agplMentions(Object.keys(files), (file) => files[file as keyof typeof files])).toEqual([
      'scripts/setup.sh:2: GOBIN=.tools/bin go install go.k6.io/k6@v1.8.1',
      'scripts/setup.sh:3: go mod download github.com/grafana/loki/v3@v3.7.8',
      'scripts/setup.sh:4: apt-get install -y k6',
      'scripts/setup.sh:5: curl -fsSL https://dl.k6.io/key.gpg',
      'scripts/setup.sh:6: docker pull grafana/tempo:2.6.1',
    ]);
  });
});
