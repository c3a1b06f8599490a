import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { planLayout, processNames, serviceNames, stackProcesses, type StackLayout } from '@tracemart/stack';
import { LOAD_RESTRICTOR, MAKE_SECRETS, ROOT, asList, asRecord, isRecord, render, tool, workloads } from './support';

// The calls tilt-stubs.star records, one per Tilt builtin, with the arguments it keeps.
type LiveUpdateStep = { step: 'sync'; local: string; remote: string } | { step: 'run'; cmd: string; trigger: string[] } | { step: 'fall_back_on'; files: string[] };

interface Link {
  url: string;
  name: string | null;
}

type ProbeAction = { kind: 'http'; port: number; host: string; path: string } | { kind: 'tcp'; port: number; host: string } | { kind: 'exec'; command: string[] };

type Call =
  | { kind: 'allow_k8s_contexts'; contexts: string[] }
  | { kind: 'update_settings' }
  | { kind: 'local'; command: string }
  | { kind: 'config.define_bool'; name: string; args: boolean }
  | { kind: 'kustomize'; path: string; flags: string[] }
  | { kind: 'k8s_yaml'; yaml: unknown }
  | { kind: 'watch_file'; path: string }
  | {
      kind: 'docker_build';
      ref: string;
      context: string;
      build_args: Record<string, string>;
      dockerfile: string;
      live_update: LiveUpdateStep[];
      ignore: string[];
      only: string[];
    }
  | {
      kind: 'k8s_resource';
      workload: string;
      port_forwards: unknown[];
      resource_deps: string[];
      links: Link[];
      labels: string[];
    }
  | {
      kind: 'local_resource';
      name: string;
      cmd: string;
      serve_cmd: string;
      deps: string[];
      ignore: string[];
      trigger_mode: string;
      resource_deps: string[];
      auto_init: boolean;
      readiness_probe: { probe: ProbeAction; period_secs: number } | null;
      links: Link[];
      labels: string[];
    };

type CallOf<K extends Call['kind']> = Extract<Call, { kind: K }>;
type LocalResource = CallOf<'local_resource'>;

const CALL_KINDS: readonly string[] = [
  'allow_k8s_contexts',
  'update_settings',
  'local',
  'config.define_bool',
  'kustomize',
  'k8s_yaml',
  'watch_file',
  'docker_build',
  'k8s_resource',
  'local_resource',
] satisfies Call['kind'][];

/** A record from tilt-stubs.star; its fields are those the stub of its kind writes, so the kind is what is checked. */
function isCall(value: unknown): value is Call {
  return typeof value === 'object' && value !== null && 'kind' in value && typeof value.kind === 'string' && CALL_KINDS.includes(value.kind);
}

/** What the machine answers the Tiltfile: k8s_context(), the kubectl reachability check, `tilt up -- <args>`, os.path.exists. */
interface Machine {
  context: string;
  cluster: 'up' | 'none';
  args: Record<string, boolean>;
  paths?: Record<string, boolean>;
}

const scratch = mkdtempSync(join(tmpdir(), 'tiltfile-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** The Tiltfile's `os.path.exists('<literal>')` arguments, answered from this checkout unless the test says otherwise. */
function pathsOf(source: string, overrides: Record<string, boolean> = {}): Record<string, boolean> {
  const paths = [...source.matchAll(/os\.path\.exists\('([^']+)'\)/g)].map((m) => m[1]!);
  return { ...Object.fromEntries(paths.map((p) => [p, existsSync(join(ROOT, p))])), ...overrides };
}

/**
 * Runs stubs + Tiltfile in the Starlark interpreter (Tilt's dialect: top-level loops, reassignment) and returns the
 * calls. Tilt's module builtins (`config.`, `os.path.`, `os.`) become the stubs' `__config_`, `__os_path_`, `__os_`.
 */
function runTiltfile(source: string, machine: Machine): Call[] {
  const stubs = readFileSync(join(ROOT, 'deploy/tests/tilt-stubs.star'), 'utf8');
  const env = { context: machine.context, cluster: machine.cluster, args: machine.args, paths: machine.paths ?? pathsOf(source) };
  const rewritten = source.replace(/\b(config|os\.path|os)\.([a-z_]+)\(/g, (_, ns: string, fn: string) => `__${ns.replace('.', '_')}_${fn}(`);
  const file = join(scratch, 'Tiltfile.star');
  writeFileSync(file, `__env = json.decode(${JSON.stringify(JSON.stringify(env))})\n${stubs}\n${rewritten}\nprint(json.encode(__calls))\n`);
  // The interpreter's print() writes to stderr.
  const run = spawnSync(tool('starlark'), ['-globalreassign', '-recursion', file], { encoding: 'utf8', cwd: ROOT });
  if (run.status !== 0) throw new Error(`Tiltfile does not run with the stub builtins:\n${run.stderr}`);
  return asList(JSON.parse(run.stderr.trim().split('\n').pop()!), 'the recorded calls').map((call) => {
    if (!isCall(call)) throw new Error(`tilt-stubs.star recorded a call of no known kind: ${JSON.stringify(call)}`);
    return call;
  });
}

const source = readFileSync(join(ROOT, 'Tiltfile'), 'utf8');
const exists = (path: string) => existsSync(join(ROOT, path));
const npmScripts = asRecord(asRecord(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')), 'package.json').scripts, 'package.json scripts');
const calls = (machine: Machine) => {
  const recorded = runTiltfile(source, machine);
  return <K extends Call['kind']>(kind: K) => recorded.filter((c): c is CallOf<K> => c.kind === kind);
};
/** `npm run --silent <script> -- <args>` → the script's name, if the command is one. */
const npmScriptOf = (command: string) => /^npm run (?:--silent )?([\w:-]+)/.exec(command)?.[1];
const isButton = (r: LocalResource) => r.serve_cmd === '' && r.name !== 'storefront' && r.name !== 'setup';

/** Every button waits for a click and runs an npm script that exists, or a script of this repository. */
function buttonProblems(resources: LocalResource[]): string[] {
  const problems: string[] = [];
  for (const r of resources.filter(isButton)) {
    if (r.trigger_mode !== 'manual' || r.auto_init !== false) problems.push(`${r.name}: runs without a click`);
    if (!r.labels.includes('tests')) problems.push(`${r.name}: not under the label tests`);
    const script = npmScriptOf(r.cmd);
    if (script !== undefined) {
      if (!(isRecord(npmScripts) && npmScripts[script])) problems.push(`${r.name}: no npm script "${script}" in package.json`);
    } else if (!exists(r.cmd.split(' ')[0]!)) problems.push(`${r.name}: ${r.cmd.split(' ')[0]} does not exist`);
  }
  return problems;
}

const LOCAL_MACHINES: [string, Machine][] = [
  ['no kubeconfig at all', { context: '', cluster: 'none', args: {} }],
  ['a context whose cluster does not answer (or no kubectl)', { context: 'kind-tracemart', cluster: 'none', args: {} }],
  ['`tilt up -- --local` beside a cluster that answers', { context: 'kind-tracemart', cluster: 'up', args: { local: true } }],
];

describe('the Tiltfile in local mode', () => {
  // The layout `npm run stack:process` uses without a layout file: npm start's fixed ports, 3 NATS nodes, one instance each.
  let layout: StackLayout;
  const planned = planLayout({ dataDir: '/data', natsNodes: 3, instances: 1 }).then((l) => (layout = l));

  it.each(LOCAL_MACHINES)('when there is %s, then it deploys nothing to a cluster and needs no Docker', async (_, machine) => {
    await planned;
    const of = calls(machine);
    for (const kind of ['k8s_yaml', 'kustomize', 'docker_build', 'k8s_resource', 'allow_k8s_contexts'] as const) expect(of(kind), kind).toEqual([]);
    // `--local` asks no cluster; otherwise the one check, which answers `none` rather than fail without kubectl.
    expect(of('local').map((c) => c.command)).toEqual(machine.context && !machine.args.local ? [expect.stringContaining('|| echo none')] : []);
    expect(of('local_resource').filter((r) => r.serve_cmd !== '').length).toBeGreaterThan(10);
  });

  it.each([true, false])(
    'when the telemetry binaries are built (%s), then it declares a resource for every process startStack starts, each started by the per-process entry and probed where it listens',
    async (telemetry) => {
      await planned;
      const paths = pathsOf(source, Object.fromEntries(['.tools/bin/otelcol-tracemart', '.tools/bin/jaeger', '.tools/bin/victoria-logs'].map((p) => [p, telemetry])));
      const resources = calls({ context: '', cluster: 'none', args: {}, paths })('local_resource').filter((r) => r.serve_cmd !== '');
      const processes = stackProcesses(layout, { prometheus: true, telemetry });
      expect(resources.map((r) => r.name)).toEqual(processes.map((p) => p.name));
      expect(npmScripts['stack:process']).toContain('packages/stack/src/process-cli.ts');
      for (const p of processes) {
        const r = resources.find((x) => x.name === p.name)!;
        const sendsTelemetry = telemetry && p.label === 'services';
        expect(r.serve_cmd, p.name).toBe(`npm run --silent stack:process -- ${p.name}${sendsTelemetry ? ' --telemetry' : ''}`);
        expect(r.labels, p.name).toEqual([p.label]);
        const probe = r.readiness_probe?.probe;
        expect(probe, `${p.name} has a readiness probe`).toBeDefined();
        expect(probe, p.name).toEqual(
          p.readiness.kind === 'http'
            ? { kind: 'http', port: p.readiness.port, host: '127.0.0.1', path: p.readiness.path }
            : { kind: 'tcp', port: p.readiness.port, host: '127.0.0.1' },
        );
      }
    },
  );

  it('when it orders the resources, then each waits for exactly what startStack waits for before starting it (plus the storefront build for the gateway, and setup first)', async () => {
    await planned;
    const resources = calls({ context: '', cluster: 'none', args: {} })('local_resource');
    const storefront = exists('storefront');
    for (const p of stackProcesses(layout, { prometheus: true, telemetry: true })) {
      const r = resources.find((x) => x.name === p.name);
      if (!r) continue; // telemetry backends without their binaries: covered above
      // What waits for nothing else waits for the setup step (npm start's scripts/setup.sh).
      const after = p.after.length > 0 ? p.after : ['setup'];
      const expected = p.name === 'gateway' && storefront ? [...after, 'storefront'] : after;
      expect([...r.resource_deps].sort(), p.name).toEqual([...expected].sort());
    }
    // The setup step is npm start's own (a fresh machine gets the toolchain and the shop's build first).
    expect(resources.find((r) => r.name === 'setup')?.cmd).toMatch(/^npm install .*&& bash scripts\/setup\.sh$/);
    if (storefront) expect(resources.find((r) => r.name === 'storefront')?.resource_deps).toEqual(['setup']);
    // Deps name declared resources only, and lead nowhere in a circle: Tilt can start them in this order.
    const names = new Set(resources.map((r) => r.name));
    const started = new Set<string>();
    for (let round = 0; round < resources.length && started.size < resources.length; round++) {
      for (const r of resources) if (r.resource_deps.every((d) => started.has(d))) started.add(r.name);
    }
    for (const r of resources) for (const d of r.resource_deps) expect(names.has(d), `${r.name} waits for ${d}`).toBe(true);
    expect(started.size).toBe(resources.length);
  });

  it('when a file under services/<name>/ changes, then only that service restarts (its deps are its own folder, without node_modules)', () => {
    const resources = calls({ context: '', cluster: 'none', args: {} })('local_resource');
    for (const name of processNames) {
      const dir = name === 'gateway' ? 'gateway' : `services/${name}`;
      const r = resources.find((x) => x.name === name)!;
      expect(r.deps, name).toEqual([dir]);
      expect(r.ignore, name).toEqual([`${dir}/node_modules`]);
      expect(exists(dir)).toBe(true);
      const watchers = resources.filter((x) => x.deps.some((d) => d === dir || d.startsWith(`${dir}/`)));
      expect(watchers.map((x) => x.name)).toEqual([name]);
    }
  });

  it.each([true, false])('when the storefront folder exists (%s), then its build is a resource the gateway waits for, else neither', (present) => {
    const resources = calls({ context: '', cluster: 'none', args: {}, paths: pathsOf(source, { storefront: present }) })('local_resource');
    const build = resources.find((r) => r.name === 'storefront');
    const gateway = resources.find((r) => r.name === 'gateway')!;
    if (present) {
      expect(build?.cmd).toBe('npm run --silent build');
      expect(npmScripts.build).toBeDefined();
      expect(build?.deps).toContain('storefront/src');
      expect(gateway.resource_deps).toContain('storefront');
    } else {
      expect(build).toBeUndefined();
      expect(gateway.resource_deps).not.toContain('storefront');
    }
  });

  it('when it links, then the gateway has the shop and API, Prometheus and the logs UI theirs, and every service its /metrics', async () => {
    await planned;
    const telemetry = pathsOf(source, { '.tools/bin/otelcol-tracemart': true, '.tools/bin/jaeger': true, '.tools/bin/victoria-logs': true });
    const resources = calls({ context: '', cluster: 'none', args: {}, paths: telemetry })('local_resource');
    const linksOf = (name: string) => resources.find((r) => r.name === name)!.links.map((l) => l.url);
    const gateway = layout.instances.gateway[0]!.url;
    expect(linksOf('gateway')).toEqual(expect.arrayContaining([`${gateway}/`, `${gateway}/api/products`, `http://127.0.0.1:${layout.gatewayMetricsPort}/metrics`]));
    for (const name of serviceNames) expect(linksOf(name)).toEqual([`${layout.instances[name][0]!.url}/metrics`]);
    expect(linksOf('prometheus')).toEqual([`http://127.0.0.1:${layout.prometheusPort}/targets`]);
    expect(linksOf('victoria-logs')[0]).toContain('/select/vmui/');
    for (const r of resources) for (const label of r.labels) expect(['infra', 'services', 'observability', 'tests']).toContain(label);
  });

  it('when it adds buttons, then every k6 suite, the CI harness, each fault kind per process, consumers, the projection rebuild and the last trace have one, each an npm script run on a click', () => {
    const resources = calls({ context: '', cluster: 'none', args: {} })('local_resource');
    expect(buttonProblems(resources)).toEqual([]);
    const buttons = resources.filter(isButton);
    const commands = buttons.map((b) => b.cmd);
    const suites = readdirSync(join(ROOT, 'load-tests'))
      .filter((f) => f.endsWith('.js'))
      .map((f) => f.replace(/\.js$/, ''));
    for (const suite of suites) expect(commands, `k6 suite ${suite}`).toContain(`npm run --silent load:${suite}`);
    expect(commands).toContain('npm run --silent load:ci -- smoke');
    for (const name of processNames) {
      for (const kind of ['latency', 'error', 'outage'])
        expect(
          commands.some((c) => c.startsWith(`npm run --silent fault -- inject ${name} --kind ${kind} `)),
          `${kind} fault on ${name}`,
        ).toBe(true);
    }
    expect(commands).toContain('npm run --silent fault -- clear --all');
    expect(commands).toContain('npm run --silent fault -- pause-consumers order');
    expect(commands).toContain('npm run --silent fault -- resume-consumers order');
    expect(commands).toContain('npm run --silent projections:rebuild -- orders');
    expect(commands).toContain('npm run --silent trace:last');
    for (const b of buttons) expect(b.resource_deps).toEqual(['gateway']);
  });
});

describe('the Tiltfile in cluster mode', () => {
  const of = calls({ context: 'kind-tracemart', cluster: 'up', args: {} });
  // Rendered while the file is collected: kustomize (and make-secrets.sh before it) may outlast a test's timeout on a busy machine.
  const objects = render('dev');

  it('when a builtin is called with an argument Tilt does not have, then the parse check fails', () => {
    expect(() => runTiltfile(`${source}\ndocker_build('x', '.', live_updates=[])`, { context: '', cluster: 'none', args: {} })).toThrow();
    expect(() => runTiltfile(`${source}\nlocal_resource('x', serve_cmd='true', readiness=None)`, { context: '', cluster: 'none', args: {} })).toThrow();
  });

  it('when a context answers, then it declares `--local` and runs no process locally', () => {
    expect(of('config.define_bool').map((c) => c.name)).toEqual(['local']);
    expect(of('local_resource').filter((r) => r.serve_cmd !== '')).toEqual([]);
    expect(of('allow_k8s_contexts')).toEqual([{ kind: 'allow_k8s_contexts', contexts: ['kind-tracemart'] }]);
  });

  it('when it deploys, then it renders the dev overlay with the same load restrictor as the tests', () => {
    expect(of('kustomize')).toEqual([{ kind: 'kustomize', path: 'deploy/k8s/overlays/dev', flags: [LOAD_RESTRICTOR] }]);
    expect(of('k8s_yaml')).toHaveLength(1);
  });

  it('when it deploys, then it first makes the Secrets the dev overlay reads (random, git-ignored) with the script the tests run', () => {
    const commands = of('local').map((c) => c.command);
    expect(commands).toContain(`bash ${MAKE_SECRETS}`);
    expect(exists(MAKE_SECRETS)).toBe(true);
  });

  it('when it builds images, then every context, Dockerfile, workspace and live_update path exists', () => {
    const missing: string[] = [];
    for (const build of of('docker_build')) {
      const paths = [build.context, build.dockerfile, build.build_args.SERVICE!, `${build.build_args.SERVICE}/package.json`];
      for (const step of build.live_update) paths.push(...(step.step === 'sync' ? [step.local] : 'files' in step ? step.files : []));
      for (const path of paths) if (!exists(path)) missing.push(`${build.ref}: ${path}`);
      const syncs = build.live_update.filter((s) => s.step === 'sync');
      for (const s of syncs) expect(s.remote, build.ref).toBe(`/app/${s.local}`);
    }
    for (const watched of of('watch_file')) if (!exists(watched.path)) missing.push(`watch_file ${watched.path}`);
    expect(missing).toEqual([]);
  });

  it('when it builds a service image, then live_update syncs that service sources (and the shared packages) and ignores every other service; only the gateway image holds the storefront', () => {
    const builds = of('docker_build');
    expect(builds.map((b) => b.ref).sort()).toEqual(processNames.map((n) => `tracemart/${n}`).sort());
    for (const build of builds) {
      const dir = build.build_args.SERVICE!;
      const syncs = build.live_update.filter((s) => s.step === 'sync').map((s) => s.local);
      expect(syncs, build.ref).toEqual(['packages', `${dir}/src`]);
      const others = processNames.map((n) => (n === 'gateway' ? 'gateway' : `services/${n}`)).filter((d) => d !== dir);
      const storefront = dir === 'gateway' ? [] : ['storefront'];
      expect([...build.ignore].sort(), build.ref).toEqual([...others.map((d) => `${d}/src`), ...storefront].sort());
      // The gateway image builds the shop in its Dockerfile stage: a storefront change rebuilds it (no sync).
      const fallBack = build.live_update.filter((s) => s.step === 'fall_back_on').flatMap((s) => ('files' in s ? s.files : []));
      expect(fallBack.includes('storefront'), build.ref).toBe(dir === 'gateway');
    }
  });

  it('when the manifests name images and workloads, then each image is built and each workload is a labelled resource', () => {
    const images = new Set(workloads(objects).flatMap((w) => w.spec.template!.spec.containers.map((c) => String(c.image).split(':')[0]!)));
    const built = of('docker_build').map((b) => b.ref);
    for (const ref of built) expect(images.has(ref), `${ref} is not used by any workload`).toBe(true);
    for (const image of images) if (image.startsWith('tracemart/')) expect(built, image).toContain(image);
    const resources = of('k8s_resource');
    expect(resources.map((r) => r.workload).sort()).toEqual(
      workloads(objects)
        .map((w) => w.metadata.name)
        .sort(),
    );
    for (const r of [...resources, ...of('local_resource')]) {
      expect(r.labels.length, r.kind === 'k8s_resource' ? r.workload : r.name).toBeGreaterThan(0);
      for (const label of r.labels) expect(['services', 'data', 'observability', 'tests']).toContain(label);
    }
    const grafanaLinks = resources.flatMap((r) => r.links.map((l) => l.url)).filter((u) => u.includes('/d/tracemart-service'));
    expect(grafanaLinks).toHaveLength(7);
    expect(resources.find((r) => r.workload === 'prometheus')?.port_forwards).toContain('9090:9090');
  });

  it('when a button runs a script or an npm script, then it exists and waits for a click; the in-cluster k6 Jobs are there too', () => {
    expect(buttonProblems(of('local_resource'))).toEqual([]);
    expect(
      of('local_resource')
        .filter((r) => r.cmd.startsWith('deploy/scripts/k6-cluster.sh '))
        .map((r) => r.name),
    ).toEqual(['k6-cluster-smoke', 'k6-cluster-load', 'k6-cluster-degradation']);
  });
});
