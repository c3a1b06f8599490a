import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { KNOWN_PUBLIC_SECRETS, weakSecretReason } from '@tracemart/platform';
import { MAKE_SECRETS, OVERLAYS, ROOT, asRecord, findObject, ofKind, render, type EnvVar, type K8sObject } from './support';

const SERVICES = ['user', 'catalog', 'order', 'inventory', 'payment', 'notification'];
const scratch = mkdtempSync(join(tmpdir(), 'make-secrets-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** Runs make-secrets.sh into `dir`; returns what it said on stderr. */
function makeSecrets(dir: string): string {
  const run = spawnSync('bash', [join(ROOT, MAKE_SECRETS)], { env: { ...process.env, TRACEMART_SECRETS_DIR: dir }, encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`make-secrets.sh failed: ${run.stderr}`);
  return run.stderr;
}

/** Every file of a secrets folder, name -> content. */
function snapshot(dir: string): Record<string, string> {
  return Object.fromEntries(
    readdirSync(dir)
      .sort()
      .map((file) => [file, readFileSync(join(dir, file), 'utf8')]),
  );
}

const decoded = (secret: K8sObject): Record<string, string> =>
  Object.fromEntries(Object.entries(secret.data ?? {}).map(([key, value]) => [key, Buffer.from(value, 'base64').toString('utf8')]));

/** The Secret a container variable is read from, as `secret/key`, or its literal value. */
function source(env: EnvVar[] | undefined, name: string): string | undefined {
  const variable = env?.find((e) => e.name === name);
  const ref = variable?.valueFrom?.secretKeyRef;
  return ref ? `${ref.name.replace(/-[a-z0-9]{10}$/, '')}/${ref.key}` : variable?.value;
}

describe('the kustomize base', () => {
  it('when it is built, then it holds no Secret, and its kustomization generates none', () => {
    expect(render('base').filter((o) => o.kind === 'Secret')).toEqual([]);
    const kustomization = asRecord(parse(readFileSync(join(ROOT, 'deploy/k8s/base/kustomization.yaml'), 'utf8')), 'kustomization.yaml');
    expect(kustomization.secretGenerator).toBeUndefined();
  });

  it('when its files are searched for the old public dev values, then none is left', () => {
    const files = execFileSync('git', ['ls-files', '-co', '--exclude-standard', 'deploy/k8s'], { cwd: ROOT, encoding: 'utf8' }).trim().split('\n');
    const found = files.flatMap((file) => {
      const text = readFileSync(join(ROOT, file), 'utf8');
      return KNOWN_PUBLIC_SECRETS.filter((value) => value !== 'admin' && text.includes(value)).map((value) => `${file}: ${value}`);
    });
    expect(found).toEqual([]);
  });
});

describe.each(OVERLAYS)('the Secrets of the %s overlay', (overlay) => {
  const objects = render(overlay);
  const secrets = objects.filter((o) => o.kind === 'Secret');

  it('when they are rendered, then every one of them is generated from the env files, and no value is a known or weak default', () => {
    expect(secrets.map((s) => s.metadata.name.replace(/-[a-z0-9]{10}$/, '')).sort()).toEqual([
      'grafana-admin',
      'mongodb-keyfile',
      'mongodb-users',
      'nats-users',
      'payment-token',
      'tracemart-auth',
    ]);
    const problems: string[] = [];
    for (const secret of secrets) {
      for (const [key, value] of Object.entries(decoded(secret))) {
        if (key === 'root-username') continue;
        const weak = weakSecretReason('ADMIN_TOKEN', value);
        if (weak) problems.push(`${secret.metadata.name}/${key} ${weak}`);
      }
    }
    expect(problems).toEqual([]);
    expect(decoded(secrets.find((s) => s.metadata.name.startsWith('grafana-admin-'))!).password).not.toBe('admin');
  });

  it('when the gateway and every service start, then each reads the internal auth secret, and each service its own NATS user', () => {
    const gateway = findObject(objects, 'Deployment', 'gateway')!.spec.template.spec.containers[0]!;
    expect(source(gateway.env, 'INTERNAL_AUTH_SECRET')).toBe('tracemart-auth/internal-auth-secret');
    expect(source(gateway.env, 'NATS_USER')).toBeUndefined();
    for (const name of SERVICES) {
      const container = findObject(objects, 'Deployment', name)!.spec.template.spec.containers[0]!;
      expect(source(container.env, 'INTERNAL_AUTH_SECRET'), name).toBe('tracemart-auth/internal-auth-secret');
      expect(source(container.env, 'NATS_USER'), name).toBe(name);
      expect(source(container.env, 'NATS_PASSWORD'), name).toBe(`nats-users/${name}-password`);
      expect(source(container.env, 'PAYMENT_TOKEN_KEY'), name).toBe(['order', 'payment'].includes(name) ? 'payment-token/payment-token-key' : undefined);
    }
  });

  it("when the gateway is scraped, then Prometheus reads its metrics listener's named port, which only Prometheus reaches", () => {
    const gateway = findObject(objects, 'Deployment', 'gateway')!.spec.template;
    const container = gateway.spec.containers[0]!;
    expect(source(container.env, 'METRICS_PORT')).toBe('9464');
    expect(container.ports).toContainEqual({ name: 'metrics', containerPort: 9464 });
    expect(gateway.metadata.annotations?.['prometheus.io/port']).toBe('9464');
    const policy = objects.filter(ofKind('NetworkPolicy')).find((p) => p.metadata.name === 'gateway')!;
    const metricsRule = policy.spec.ingress!.find((rule) => rule.ports?.some((p) => p.port === 9464))!;
    expect(metricsRule.from).toEqual([{ podSelector: { matchLabels: { 'app.kubernetes.io/name': 'prometheus' } } }]);
  });
});

describe('make-secrets.sh', () => {
  it('when run twice, then the second run keeps every value; a missing key is added and nothing else changes', () => {
    const dir = join(scratch, 'a');
    expect(makeSecrets(dir)).toContain('generated');
    const first = snapshot(dir);
    expect(Object.keys(first)).toEqual(['grafana-admin.env', 'mongodb-keyfile.env', 'mongodb-users.env', 'nats-users.env', 'payment-token.env', 'tracemart-auth.env']);
    expect(makeSecrets(dir)).toBe('');
    expect(snapshot(dir)).toEqual(first);
    const auth = first['tracemart-auth.env']!;
    writeFileSync(join(dir, 'tracemart-auth.env'), auth.replace(/^internal-auth-secret=.*\n/m, ''));
    expect(makeSecrets(dir)).toContain('tracemart-auth/internal-auth-secret');
    const after = snapshot(dir);
    expect(after['tracemart-auth.env']!.split('\n').filter((l) => !l.startsWith('internal-auth-secret='))).toEqual(
      auth.split('\n').filter((l) => !l.startsWith('internal-auth-secret=')),
    );
    expect(after['tracemart-auth.env']).toMatch(/^internal-auth-secret=[0-9a-f]{64}$/m);
    expect({ ...after, 'tracemart-auth.env': '' }).toEqual({ ...first, 'tracemart-auth.env': '' });
  }, 30_000);

  it('when two checkouts make their secrets, then no value is shared, and each has the shape its consumer needs', () => {
    const [a, b] = [join(scratch, 'b1'), join(scratch, 'b2')];
    makeSecrets(a);
    makeSecrets(b);
    const values = (dir: string) =>
      Object.values(snapshot(dir))
        .flatMap((text) => text.trim().split('\n'))
        .filter((line) => !line.startsWith('root-username='))
        .map((line) => line.slice(line.indexOf('=') + 1));
    const shared = values(a).filter((v) => values(b).includes(v));
    expect(shared).toEqual([]);
    const files = snapshot(a);
    // mongod: 6 to 1024 base64 characters; nats-server: a letter first (a leading digit would parse as a number).
    expect(files['mongodb-keyfile.env']).toMatch(/^keyfile=[A-Za-z0-9+/]{6,1024}={0,2}\n$/);
    for (const line of files['nats-users.env']!.trim().split('\n')) expect(line).toMatch(/^[a-z]+-password=[a-z][0-9a-f]{40,}$/);
    expect(
      files['nats-users.env']!.trim()
        .split('\n')
        .map((l) => l.split('=')[0]),
    ).toEqual([...SERVICES, 'ops'].map((u) => `${u}-password`));
    for (const line of files['tracemart-auth.env']!.trim().split('\n')) expect(weakSecretReason('JWT_SECRET', line.split('=')[1]!), line).toBeUndefined();
  }, 30_000);

  it('when the env files are listed by git, then they are ignored', () => {
    const ignored = execFileSync('git', ['check-ignore', 'deploy/k8s/components/dev-secrets/tracemart-auth.env', 'deploy/k8s/components/dev-secrets/nats-users.env'], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    expect(ignored.trim().split('\n')).toHaveLength(2);
  });
});
