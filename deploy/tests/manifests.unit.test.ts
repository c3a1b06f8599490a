import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  OVERLAYS,
  ROOT,
  asList,
  asRecord,
  asString,
  containersOf,
  findObject,
  isRecord,
  kubeconform,
  ofKind,
  podTemplate,
  render,
  renderYaml,
  workloads,
  type EnvVar,
  type K8sObject,
  type PodTemplate,
} from './support';

const TRACEMART = ['gateway', 'user', 'catalog', 'order', 'inventory', 'payment', 'notification'];

function refsOfTemplate(template: PodTemplate): { configMaps: string[]; secrets: string[] } {
  const configMaps: string[] = [];
  const secrets: string[] = [];
  for (const c of containersOf(template)) {
    for (const from of c.envFrom ?? []) {
      if (from.configMapRef) configMaps.push(from.configMapRef.name);
      if (from.secretRef) secrets.push(from.secretRef.name);
    }
    for (const env of c.env ?? []) {
      if (env.valueFrom?.configMapKeyRef) configMaps.push(env.valueFrom.configMapKeyRef.name);
      if (env.valueFrom?.secretKeyRef) secrets.push(env.valueFrom.secretKeyRef.name);
    }
  }
  for (const v of template.spec.volumes ?? []) {
    if (v.configMap) configMaps.push(v.configMap.name);
    if (v.secret) secrets.push(v.secret.secretName);
  }
  return { configMaps, secrets };
}

/** The literal `value`s of a container's environment, by name (variables set `valueFrom` are left out). */
function plainEnv(env: EnvVar[]): Record<string, string | undefined> {
  return Object.fromEntries(env.filter((e) => 'value' in e).map((e) => [e.name, e.value]));
}

/** The `url` of each datasource of a Grafana datasources provisioning file ('' where one has none). */
function datasourceUrls(text: string): string[] {
  const file = asRecord(parse(text), 'a Grafana datasources file');
  return asList(file.datasources ?? [], 'datasources').map((d) => asString(asRecord(d, 'a datasource').url ?? '', 'a datasource url'));
}

/** The `options.path` of each provider of a Grafana dashboard providers file ('' where one has none). */
function providerPaths(text: string): string[] {
  const file = asRecord(parse(text), 'a Grafana dashboard providers file');
  return asList(file.providers ?? [], 'providers').map((p) => {
    const options = asRecord(p, 'a dashboard provider').options;
    return String((isRecord(options) ? options.path : undefined) ?? '');
  });
}

function prometheusConfig(text: string): Record<string, unknown> {
  return asRecord(parse(text), 'prometheus.yml');
}

/** The fields of a Prometheus scrape job the tests read. */
interface ScrapeConfig {
  job_name: string;
  relabel_configs: { source_labels: string[]; target_label?: string }[];
}

function scrapeConfigs(config: Record<string, unknown>): ScrapeConfig[] {
  return asList(config.scrape_configs, 'scrape_configs').map((entry) => {
    const job = asRecord(entry, 'a scrape config');
    const name = asString(job.job_name, 'a job_name');
    const relabelConfigs = asList(job.relabel_configs ?? [], `${name}: relabel_configs`).map((r) => {
      const rule = asRecord(r, `${name}: a relabel rule`);
      return {
        source_labels: asList(rule.source_labels ?? [], `${name}: source_labels`).map((l) => asString(l, `${name}: a source label`)),
        target_label: rule.target_label === undefined ? undefined : asString(rule.target_label, `${name}: target_label`),
      };
    });
    return { job_name: name, relabel_configs: relabelConfigs };
  });
}

describe.each(OVERLAYS)('the %s overlay', (overlay) => {
  it('when rendered with kustomize, then kubeconform (strict, offline schemas) finds every object valid', () => {
    const report = kubeconform(renderYaml(overlay));
    const problems = report.resources.filter((r) => r.status !== 'statusValid').map((r) => `${r.kind}/${r.name}: ${r.status} ${r.msg}`);
    expect(problems).toEqual([]);
    expect(report.exitCode).toBe(0);
    expect(report.resources.length).toBeGreaterThan(50);
  }, 60_000);

  it('when its containers are inspected, then each has probes, requests and limits, runs as non-root and uses a pinned image', () => {
    const objects = render(overlay);
    const problems: string[] = [];
    for (const w of workloads(objects)) {
      const template = podTemplate(objects, w);
      const podNonRoot = template.spec.securityContext?.runAsNonRoot === true;
      // Probes belong to what keeps running: Kubernetes refuses them on init containers, and a Job's pod just ends.
      const longRunning = w.kind === 'Job' ? [] : template.spec.containers;
      for (const c of containersOf(template)) {
        const where = `${w.kind}/${w.metadata.name}/${c.name}`;
        if (longRunning.includes(c)) for (const probe of ['startupProbe', 'readinessProbe', 'livenessProbe'] as const) if (!c[probe]) problems.push(`${where}: no ${probe}`);
        for (const kind of ['requests', 'limits'] as const) {
          for (const resource of ['cpu', 'memory'] as const) if (!c.resources?.[kind]?.[resource]) problems.push(`${where}: no ${kind}.${resource}`);
        }
        if (!(c.securityContext?.runAsNonRoot ?? podNonRoot)) problems.push(`${where}: runAsNonRoot is not set`);
        if (c.securityContext?.allowPrivilegeEscalation !== false) problems.push(`${where}: allowPrivilegeEscalation is not false`);
        const readOnly = c.securityContext?.readOnlyRootFilesystem === true;
        const liveUpdated = overlay === 'dev' && TRACEMART.includes(w.metadata.name);
        if (!readOnly && !liveUpdated) problems.push(`${where}: root filesystem is writable`);
        const image: string = c.image;
        const tag = image.includes('@') ? 'digest' : image.split('/').pop()!.split(':')[1];
        if (!tag || tag === 'latest') problems.push(`${where}: image ${image} is not pinned`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('when a tracemart process is stopped, then preStop plus the shutdown timeout fit in the grace period and rollouts never drop capacity', () => {
    const objects = render(overlay);
    const common = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name.startsWith('tracemart-common'));
    const shutdownSeconds = Number(common?.data?.SHUTDOWN_TIMEOUT_MS) / 1000;
    expect(shutdownSeconds).toBeGreaterThan(0);
    for (const name of TRACEMART) {
      const deployment = findObject(objects, 'Deployment', name);
      expect(deployment, name).toBeDefined();
      const template = deployment!.spec.template;
      const container = template.spec.containers[0]!;
      const preStop = container.lifecycle?.preStop?.sleep?.seconds ?? 0;
      expect(preStop, `${name} preStop`).toBeGreaterThan(0);
      expect(template.spec.terminationGracePeriodSeconds, name).toBeGreaterThanOrEqual(preStop + shutdownSeconds);
      expect(deployment!.spec.strategy!.rollingUpdate!.maxUnavailable, name).toBe(0);
      expect(container.readinessProbe!.httpGet!.path, name).toBe('/readyz');
      expect(container.livenessProbe!.httpGet!.path, name).toBe('/livez');
      expect(template.metadata.annotations?.['prometheus.io/scrape'], name).toBe('true');
      // Scraped on the port named metrics where there is one (the gateway's own listener), else on the HTTP port.
      const scraped = container.ports!.find((p) => p.name === 'metrics') ?? container.ports![0]!;
      expect(template.metadata.annotations?.['prometheus.io/port'], name).toBe(String(scraped.containerPort));
      expect(
        objects.some((o) => o.kind === 'PodDisruptionBudget' && o.metadata.name === name),
        `${name} PDB`,
      ).toBe(true);
    }
  });

  it('when Services and PodDisruptionBudgets select pods, then a workload in the overlay runs pods with those labels', () => {
    const objects = render(overlay);
    const podLabels = workloads(objects).map((w) => podTemplate(objects, w).metadata.labels);
    const matches = (selector: Record<string, string>) => podLabels.some((labels) => Object.entries(selector).every(([k, v]) => labels[k] === v));
    const orphans = objects
      .filter(ofKind('Service', 'PodDisruptionBudget'))
      .filter((o) => !matches(o.kind === 'Service' ? o.spec.selector : o.spec.selector.matchLabels))
      .map((o) => `${o.kind}/${o.metadata.name}`);
    expect(orphans).toEqual([]);
  });

  it('when pods reference ConfigMaps and Secrets, then each one exists in the overlay with the referenced keys', () => {
    const objects = render(overlay);
    const byName = (kind: string, name: string) => objects.find((o) => o.kind === kind && o.metadata.name === name);
    const problems: string[] = [];
    for (const w of workloads(objects)) {
      const template = podTemplate(objects, w);
      const { configMaps, secrets } = refsOfTemplate(template);
      for (const name of configMaps) if (!byName('ConfigMap', name)) problems.push(`${w.metadata.name}: ConfigMap ${name}`);
      for (const name of secrets) if (!byName('Secret', name)) problems.push(`${w.metadata.name}: Secret ${name}`);
      for (const c of containersOf(template)) {
        for (const env of c.env ?? []) {
          const ref = env.valueFrom?.secretKeyRef;
          if (ref && byName('Secret', ref.name) && !(ref.key in (byName('Secret', ref.name)!.data ?? {}))) {
            problems.push(`${w.metadata.name}: Secret ${ref.name} has no key ${ref.key}`);
          }
        }
      }
    }
    expect(problems).toEqual([]);
  });
});

describe('the observability stack in the cluster', () => {
  const objects: K8sObject[] = render('dev');
  const configMap = (prefix: string) => objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name.startsWith(`${prefix}-`));
  const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');
  const files = (dir: string, ext: RegExp) =>
    readdirSync(join(ROOT, dir))
      .filter((f) => ext.test(f))
      .sort();

  it.each([
    ['otel-collector-config', 'observability/otel-collector/config.yaml', 'config.yaml'],
    ['tempo-config', 'observability/tempo/tempo.yaml', 'tempo.yaml'],
    ['loki-config', 'observability/loki/loki.yaml', 'loki.yaml'],
    ['prometheus-config', 'observability/prometheus/prometheus.yml', 'prometheus.yml'],
  ])('when %s is mounted, then it is %s byte for byte', (name, path, key) => {
    expect(configMap(name)?.data?.[key]).toBe(read(path));
  });

  it.each([
    ['grafana-datasources', 'observability/grafana/provisioning/datasources', /\.ya?ml$/],
    ['grafana-dashboard-providers', 'observability/grafana/provisioning/dashboards', /\.ya?ml$/],
    ['grafana-dashboards', 'observability/grafana/dashboards', /\.json$/],
    ['prometheus-rules', 'observability/prometheus/rules', /\.ya?ml$/],
  ])('when %s is mounted, then it holds exactly the files of %s, unchanged', (name, dir, ext) => {
    const data = configMap(name)?.data ?? {};
    expect(Object.keys(data).sort(), `add every file of ${dir} to deploy/k8s/base/kustomization.yaml`).toEqual(files(dir, ext));
    for (const file of files(dir, ext)) expect(data[file], file).toBe(read(join(dir, file)));
  });

  it('when Grafana provisioning names a datasource URL, then it resolves to a Service of the cluster', () => {
    const grafana = findObject(objects, 'Deployment', 'grafana')!;
    const env = plainEnv(grafana.spec.template.spec.containers[0]!.env!);
    const services = new Set(objects.filter((o) => o.kind === 'Service').map((o) => o.metadata.name));
    const data = configMap('grafana-datasources')?.data ?? {};
    const urls = Object.values(data).flatMap(datasourceUrls);
    expect(urls.length).toBeGreaterThan(0);
    for (const url of urls) {
      const expanded = url.replace(/\$\{?(\w+)\}?/g, (_: string, name: string) => env[name] ?? `<unset ${name}>`);
      const host = /^https?:\/\/([^:/]+)/.exec(expanded)?.[1] ?? expanded;
      expect(services.has(host), `${url} -> ${expanded}`).toBe(true);
    }
  });

  it('when Grafana provisions dashboards, then the provider reads the folder the dashboards ConfigMap is mounted at', () => {
    const grafana = findObject(objects, 'Deployment', 'grafana')!;
    const container = grafana.spec.template.spec.containers[0]!;
    const env = plainEnv(container.env!);
    const volume = grafana.spec.template.spec.volumes!.find((v) => v.configMap?.name.startsWith('grafana-dashboards-'));
    const mountPath = container.volumeMounts!.find((m) => m.name === volume!.name)!.mountPath;
    const data = configMap('grafana-dashboard-providers')?.data ?? {};
    const paths = Object.values(data).flatMap(providerPaths);
    expect(paths.length).toBeGreaterThan(0);
    for (const path of paths) {
      expect(path.replace(/\$\{?(\w+)\}?/g, (_: string, name: string) => env[name] ?? '')).toBe(mountPath);
    }
  });

  it('when the dashboards are loaded, then the one linked from Tilt (uid tracemart-service) is among them', () => {
    const data = configMap('grafana-dashboards')?.data ?? {};
    const uids = Object.values(data).map((text) => asRecord(JSON.parse(text), 'a dashboard').uid);
    expect(uids).toContain('tracemart-service');
  });

  it('when Prometheus loads its rule files, then each resolves to a file mounted from observability/prometheus/rules', () => {
    const config = prometheusConfig(configMap('prometheus-config')?.data?.['prometheus.yml'] ?? '');
    const prometheus = findObject(objects, 'Deployment', 'prometheus')!;
    const container = prometheus.spec.template.spec.containers[0]!;
    const configDir = dirname(String(container.args!.find((a) => a.startsWith('--config.file='))!.split('=')[1]));
    const rulesMount = container.volumeMounts!.find((m) => m.name === 'rules')!.mountPath;
    const mounted = Object.keys(configMap('prometheus-rules')?.data ?? {}).map((f) => join(rulesMount, f));
    const ruleFiles = asList(config.rule_files, 'rule_files').map((f) => asString(f, 'a rule file'));
    expect(ruleFiles.length).toBeGreaterThan(0);
    for (const rule of ruleFiles) {
      const path = rule.startsWith('/') ? rule : join(configDir, rule);
      expect(
        mounted.some((m) => m === path || (path.includes('*') && new RegExp(`^${path.replaceAll('.', '\\.').replaceAll('*', '[^/]*')}$`).test(m))),
        rule,
      ).toBe(true);
    }
  });

  it('when the canary analysis compares pods, then every tracemart scrape job keeps the rollouts_pod_template_hash label', () => {
    const config = prometheusConfig(configMap('prometheus-config')?.data?.['prometheus.yml'] ?? '');
    const jobs = scrapeConfigs(config).filter((j) => TRACEMART.includes(j.job_name));
    expect(jobs.map((j) => j.job_name).sort()).toEqual([...TRACEMART].sort());
    for (const job of jobs) {
      const keeps = job.relabel_configs.some(
        (r) => r.source_labels.includes('__meta_kubernetes_pod_label_rollouts_pod_template_hash') && r.target_label === 'rollouts_pod_template_hash',
      );
      expect(keeps, `${job.job_name}: add a relabel rule from __meta_kubernetes_pod_label_rollouts_pod_template_hash`).toBe(true);
    }
  });
});

/** A container's environment as the process sees it: its envFrom ConfigMaps, then its own `env` (literal values only). */
function effectiveEnv(objects: K8sObject[], container: { envFrom?: { configMapRef?: { name: string } }[]; env?: EnvVar[] }): Record<string, string | undefined> {
  const fromConfigMaps = (container.envFrom ?? []).flatMap((from) => {
    const map = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === from.configMapRef?.name);
    return Object.entries(map?.data ?? {});
  });
  return { ...Object.fromEntries(fromConfigMaps), ...plainEnv(container.env ?? []) };
}

describe.each(OVERLAYS)('the shop in the %s overlay', (overlay) => {
  const objects = render(overlay);
  const gateway = findObject(objects, 'Deployment', 'gateway')!.spec.template.spec.containers[0]!;
  const env = effectiveEnv(objects, gateway);
  /** A Service's ports (the support types leave them out). */
  const portsOf = (service: K8sObject | undefined) => asList(asRecord(service?.spec, 'a Service spec').ports ?? [], 'ports').map((p) => asRecord(p, 'a Service port'));

  it("when a shop page links a trace, then GRAFANA_URL is the host address kind publishes Grafana's NodePort at", () => {
    const nodePort = portsOf(objects.find((o) => o.kind === 'Service' && o.metadata.name === 'grafana'))[0]?.nodePort;
    expect(nodePort).toBeDefined();
    const kind = asRecord(parse(readFileSync(join(ROOT, 'deploy/kind/cluster.yaml'), 'utf8')), 'the kind cluster');
    const mappings = asList(asRecord(asList(kind.nodes, 'nodes')[0], 'a node').extraPortMappings, 'extraPortMappings').map((m) => asRecord(m, 'a port mapping'));
    const published = mappings.find((m) => m.containerPort === nodePort);
    expect(published, `no kind port mapping for Grafana's NodePort ${String(nodePort)}`).toBeDefined();
    expect(env.GRAFANA_URL).toBe(`http://localhost:${String(published?.hostPort)}`);
  });

  it("when the browser exports spans through the gateway, then the gateway's OTLP endpoint is the collector's OTLP/HTTP receiver", () => {
    const endpoint = new URL(env.OTLP_TRACES_URL ?? env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? env.OTEL_EXPORTER_OTLP_ENDPOINT ?? 'http://unset');
    const collector = objects.find((o) => o.kind === 'Service' && o.metadata.name === endpoint.hostname);
    expect(collector?.metadata.name).toBe('otel-collector');
    expect(portsOf(collector).map((p) => p.port)).toContain(Number(endpoint.port));
    const config = asRecord(parse(readFileSync(join(ROOT, 'observability/otel-collector/config.yaml'), 'utf8')), 'the collector config');
    const http = asRecord(asRecord(asRecord(asRecord(config.receivers, 'receivers').otlp, 'otlp').protocols, 'protocols').http, 'the OTLP/HTTP receiver');
    expect(http.endpoint).toBe(`0.0.0.0:${endpoint.port}`);
  });
});

describe.each(OVERLAYS)('the replicated data stores in the %s overlay', (overlay) => {
  const objects = render(overlay);
  const tracemart = TRACEMART.map((name) => {
    const deployment = findObject(objects, 'Deployment', name);
    if (!deployment) throw new Error(`no Deployment ${name}`);
    const container = deployment.spec.template.spec.containers[0]!;
    return { name, container, env: effectiveEnv(objects, container) };
  });
  const services = tracemart.filter((t) => t.name !== 'gateway');
  const configFile = (prefix: string, key: string) => objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name.startsWith(`${prefix}-`))?.data?.[key] ?? '';

  it('when NATS runs, then it is a StatefulSet of 3 behind a headless Service, each node routing to all three pods', () => {
    const nats = findObject(objects, 'StatefulSet', 'nats')!;
    expect(nats.spec.replicas).toBe(3);
    const service = findObject(objects, 'Service', nats.spec.serviceName!)!;
    expect(service.spec.clusterIP).toBe('None');
    expect(service.spec.publishNotReadyAddresses).toBe(true);
    const container = nats.spec.template.spec.containers[0]!;
    expect(container.image).toMatch(/^nats:2\.12\.\d+-alpine$/);
    const conf = configFile('nats-config', 'nats.conf');
    const routes = [...conf.matchAll(/nats:\/\/([\w.-]+):6222/g)].map((m) => m[1]);
    expect(routes).toEqual([0, 1, 2].map((i) => `nats-${i}.${service.metadata.name}`));
    expect(conf).toMatch(/^cluster \{[\s\S]*name: tracemart/m);
    // Each node names itself after its pod, the name the routes and /jsz use.
    expect(conf).toMatch(/^server_name: \$POD_NAME$/m);
    expect(container.env?.find((e) => e.name === 'POD_NAME')?.valueFrom?.fieldRef?.fieldPath).toBe('metadata.name');
    expect(container.ports?.map((p) => p.containerPort)).toEqual(expect.arrayContaining([4222, 6222, 8222]));
    expect(findObject(objects, 'PodDisruptionBudget', 'nats')).toBeDefined();
  });

  it('when a tracemart process connects to NATS, then it lists all three nodes and provisions streams with 3 replicas', () => {
    for (const { name, env } of tracemart) {
      expect(env.NATS_URL?.split(','), name).toEqual([0, 1, 2].map((i) => `nats://nats-${i}.nats:4222`));
      expect(env.NATS_REPLICAS, name).toBe('3');
    }
  });

  it('when a tracemart process starts, then its INSTANCE_ID is its pod name', () => {
    for (const { name, container } of tracemart) {
      expect(container.env?.find((e) => e.name === 'INSTANCE_ID')?.valueFrom?.fieldRef?.fieldPath, name).toBe('metadata.name');
    }
  });

  it('when MongoDB runs, then it is a replica set of 3 members initiated by a Job with the same name and hosts', () => {
    const mongodb = findObject(objects, 'StatefulSet', 'mongodb')!;
    expect(mongodb.spec.replicas).toBe(3);
    expect(findObject(objects, 'Service', mongodb.spec.serviceName!)?.spec.clusterIP).toBe('None');
    const conf = parse(configFile('mongodb-config', 'mongod.conf')) as { replication?: { replSetName?: string }; security?: { keyFile?: string } };
    expect(conf.replication?.replSetName).toBe('rs0');
    expect(conf.security?.keyFile).toBeDefined();
    const job = findObject(objects, 'Job', 'mongodb-rs-init')!;
    const scripts = job.spec.template.spec.volumes!.find((v) => v.configMap?.name.startsWith('mongodb-replica-set-'))!;
    const script = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === scripts.configMap!.name)!.data!['init-replica-set.js']!;
    expect(script).toContain("rs.initiate({ _id: 'rs0', members })");
    expect(script).toContain('[0, 1, 2].map((i) => ({ _id: i, host: `mongodb-${i}.mongodb:27017` }))');
    expect(script).toContain("'NotYetInitialized'");
    expect(findObject(objects, 'PodDisruptionBudget', 'mongodb')).toBeDefined();
  });

  it('when a service connects to MongoDB, then its URL names the replica set and every member, with majority writes and reads', () => {
    for (const { name, env } of services) {
      // WHATWG URL takes one host only: the seed list is split out by hand.
      const [, credentials, hosts, database, query] = /^mongodb:\/\/([^@]+)@([^/]+)\/([^?]+)\?(.*)$/.exec(env.MONGODB_URL ?? '') ?? [];
      expect(credentials, name).toBe(`${name}:$(MONGODB_PASSWORD)`);
      expect(hosts?.split(','), name).toEqual([0, 1, 2].map((i) => `mongodb-${i}.mongodb:27017`));
      expect(database, name).toBe(`tracemart_${name}`);
      expect(Object.fromEntries(new URLSearchParams(query)), name).toEqual({
        authSource: `tracemart_${name}`,
        replicaSet: 'rs0',
        w: 'majority',
        readConcernLevel: 'majority',
      });
    }
  });
});
