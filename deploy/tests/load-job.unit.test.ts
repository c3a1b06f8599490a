import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LOAD_RESTRICTOR, ROOT, kubeconform, ofKind, parseObjects, tool, type K8sObject } from './support';

/**
 * deploy/k8s/load: the k6 suites as a Job inside the cluster with the grafana/k6 image, which the Tiltfile's k6
 * buttons apply through deploy/scripts/k6-cluster.sh. No cluster runs here, so it is checked as rendered: valid
 * against the Kubernetes schemas, every script and everything they import mounted where k6 looks for it, and a
 * network policy that lets the pod reach the gateway and nothing else.
 */

const yamlText = execFileSync(tool('kustomize'), ['build', LOAD_RESTRICTOR, join(ROOT, 'deploy/k8s/load')], { encoding: 'utf8' });
const objects = parseObjects(yamlText);
const configMap = (name: string) => objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === name) as (K8sObject & { data?: Record<string, string> }) | undefined;
const jsFiles = (dir: string) => readdirSync(join(ROOT, dir)).filter((f) => f.endsWith('.js'));

describe('the in-cluster k6 Job', () => {
  it('when rendered, then every object is valid against the Kubernetes schemas (strict)', () => {
    const report = kubeconform(yamlText);
    expect(
      report.resources.filter((r) => r.status !== 'statusValid'),
      JSON.stringify(report.resources),
    ).toEqual([]);
    expect(report.exitCode).toBe(0);
  });

  it('when mounted, then it holds every suite, scenarios.json and every lib module, as they are in load-tests/', () => {
    expect(Object.keys(configMap('k6-scripts')?.data ?? {}).sort()).toEqual([...jsFiles('load-tests'), 'scenarios.json'].sort());
    expect(Object.keys(configMap('k6-lib')?.data ?? {}).sort()).toEqual(jsFiles('load-tests/lib').sort());
    const job = objects.filter(ofKind('Job'))[0];
    const container = job?.spec.template.spec.containers[0];
    expect(container?.image).toMatch(/^grafana\/k6:1\.\d+\.\d+$/);
    expect(container?.volumeMounts?.map((m) => m.mountPath)).toEqual(expect.arrayContaining(['/scripts', '/scripts/lib']));
    expect(container?.env?.find((e) => e.name === 'BASE_URL')?.value).toBe('http://gateway:8080');
  });

  it('when the button script runs it, then every ConfigMap and Secret the Job reads is rendered or created by the script first', () => {
    const script = readFileSync(join(ROOT, 'deploy/scripts/k6-cluster.sh'), 'utf8');
    const job = objects.filter(ofKind('Job'))[0];
    const refs = (job?.spec.template.spec.containers ?? []).flatMap((c) => c.env ?? []).flatMap((e) => [e.valueFrom?.configMapKeyRef?.name, e.valueFrom?.secretKeyRef?.name]);
    const volumes = (job?.spec.template.spec.volumes ?? []).flatMap((v) => [v.configMap?.name]);
    const rendered = new Set(objects.map((o) => o.metadata.name));
    for (const name of [...refs, ...volumes].filter((n): n is string => Boolean(n))) {
      const created = new RegExp(`create (configmap|secret generic) ${name}\\b`).test(script);
      expect(rendered.has(name) || created, `${name} is neither rendered nor created by k6-cluster.sh`).toBe(true);
    }
    // The suite is chosen through the k6-run ConfigMap, which the kustomization must not hold (applying it would reset it).
    expect(rendered.has('k6-run')).toBe(false);
    expect(script.indexOf('create configmap k6-run')).toBeGreaterThan(0);
    expect(script.indexOf('create configmap k6-run')).toBeLessThan(script.indexOf('"$KUSTOMIZE" build'));
  });

  it('when its network policy is read, then the k6 pod may reach only the gateway on 8080', () => {
    const policy = objects.filter(ofKind('NetworkPolicy')).find((p) => p.metadata.name === 'k6');
    expect(policy?.spec.podSelector).toEqual({ matchLabels: { 'app.kubernetes.io/name': 'k6' } });
    expect(policy?.spec.egress).toEqual([{ to: [{ podSelector: { matchLabels: { 'app.kubernetes.io/name': 'gateway' } } }], ports: [{ protocol: 'TCP', port: 8080 }] }]);
  });
});
