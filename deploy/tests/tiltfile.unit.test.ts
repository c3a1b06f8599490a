import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LOAD_RESTRICTOR, ROOT, asList, asRecord, isRecord, render, tool, workloads } from './support';

// The calls tilt-stubs.star records, one per Tilt builtin, with the arguments it keeps.
type LiveUpdateStep = { step: 'sync'; local: string; remote: string } | { step: 'run'; cmd: string; trigger: string[] } | { step: 'fall_back_on'; files: string[] };

interface Link {
  url: string;
  name: string | null;
}

type Call =
  | { kind: 'allow_k8s_contexts'; contexts: string[] }
  | { kind: 'update_settings' }
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
      deps: string[];
      trigger_mode: string;
      resource_deps: string[];
      auto_init: boolean;
      labels: string[];
    };

type CallOf<K extends Call['kind']> = Extract<Call, { kind: K }>;

const CALL_KINDS: readonly string[] = [
  'allow_k8s_contexts',
  'update_settings',
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

const LABELS = ['services', 'data', 'observability', 'load'];
const scratch = mkdtempSync(join(tmpdir(), 'tiltfile-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** Runs stubs + Tiltfile in the Starlark interpreter (Tilt's dialect: top-level loops, reassignment) and returns the calls. */
function runTiltfile(source: string): Call[] {
  const stubs = readFileSync(join(ROOT, 'deploy/tests/tilt-stubs.star'), 'utf8');
  const file = join(scratch, 'Tiltfile.star');
  writeFileSync(file, `${stubs}\n${source}\nprint(json.encode(__calls))\n`);
  // The interpreter's print() writes to stderr.
  const run = spawnSync(tool('starlark'), ['-globalreassign', '-recursion', file], { encoding: 'utf8', cwd: ROOT });
  if (run.status !== 0) throw new Error(`Tiltfile does not run with the stub builtins:\n${run.stderr}`);
  return asList(JSON.parse(run.stderr.trim().split('\n').pop()!), 'the recorded calls').map((call) => {
    if (!isCall(call)) throw new Error(`tilt-stubs.star recorded a call of no known kind: ${JSON.stringify(call)}`);
    return call;
  });
}

describe('the Tiltfile', () => {
  const source = readFileSync(join(ROOT, 'Tiltfile'), 'utf8');
  const calls = runTiltfile(source);
  const of = <K extends Call['kind']>(kind: K) => calls.filter((c): c is CallOf<K> => c.kind === kind);
  const exists = (path: string) => existsSync(join(ROOT, path));

  it('when a builtin is called with an argument Tilt does not have, then the parse check fails', () => {
    expect(() => runTiltfile(`${source}\ndocker_build('x', '.', live_updates=[])`)).toThrow();
  });

  it('when it deploys, then it renders the dev overlay with the same load restrictor as the tests', () => {
    expect(of('kustomize')).toEqual([{ kind: 'kustomize', path: 'deploy/k8s/overlays/dev', flags: [LOAD_RESTRICTOR] }]);
    expect(of('k8s_yaml')).toHaveLength(1);
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

  it('when the manifests name images and workloads, then each image is built and each workload is a labelled resource', () => {
    const objects = render('dev');
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
      for (const label of r.labels) expect(LABELS).toContain(label);
    }
    const grafanaLinks = resources.flatMap((r) => r.links.map((l) => l.url)).filter((u) => u.includes('/d/tracemart-service'));
    expect(grafanaLinks).toHaveLength(7);
    expect(resources.find((r) => r.workload === 'prometheus')?.port_forwards).toContain('9090:9090');
  });

  it('when a button runs a script or an npm script, then it exists and waits for a click', () => {
    const scripts = asRecord(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')), 'package.json').scripts;
    const problems: string[] = [];
    for (const r of of('local_resource')) {
      if (r.trigger_mode !== 'manual' || r.auto_init !== false) problems.push(`${r.name}: runs without a click`);
      const [first, , script] = String(r.cmd).split(' ');
      if (first === 'npm') {
        if (!(isRecord(scripts) && scripts[script!])) problems.push(`${r.name}: no npm script "${script}" in package.json`);
      } else if (!exists(first!)) problems.push(`${r.name}: ${first} does not exist`);
    }
    expect(problems).toEqual([]);
    // The k6 suites run in the cluster, as a Job with the grafana/k6 image: nothing installs k6 on the host.
    expect(
      of('local_resource')
        .filter((r) => String(r.cmd).startsWith('deploy/scripts/k6-cluster.sh '))
        .map((r) => r.name),
    ).toEqual(['k6-smoke', 'k6-load', 'k6-degradation']);
  });
});
