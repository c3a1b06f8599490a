import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';

export const ROOT = resolve(__dirname, '../..');
export const TOOLS = join(ROOT, '.tools');
export const OVERLAYS = ['dev', 'canary'] as const;
export type Overlay = (typeof OVERLAYS)[number];

/** The flag every build of these manifests uses: they read observability/ from outside their kustomization root. */
export const LOAD_RESTRICTOR = '--load-restrictor=LoadRestrictionsNone';

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  /** Its shape depends on the kind: read it through `ofKind`/`findObject`, which type it. */
  spec?: unknown;
  data?: Record<string, string>;
  [key: string]: unknown;
}

// The fields of the Kubernetes and Argo Rollouts objects that these tests read, not the whole API: kubeconform checks
// the rendered manifests against the full schemas, so the tests type only what they look at.

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

export interface KeyRef {
  name: string;
  key: string;
}

export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { configMapKeyRef?: KeyRef; secretKeyRef?: KeyRef; fieldRef?: { fieldPath: string } };
}

export interface EnvFromSource {
  configMapRef?: { name: string };
  secretRef?: { name: string };
}

export interface Probe {
  httpGet?: { path: string; port: number | string };
}

export interface ResourceList {
  cpu?: string | number;
  memory?: string | number;
}

export interface VolumeMount {
  name: string;
  mountPath: string;
}

export interface Container {
  name: string;
  image: string;
  args?: string[];
  env?: EnvVar[];
  envFrom?: EnvFromSource[];
  ports?: { name?: string; containerPort: number; protocol?: string }[];
  volumeMounts?: VolumeMount[];
  resources?: { requests?: ResourceList; limits?: ResourceList };
  securityContext?: { runAsNonRoot?: boolean; allowPrivilegeEscalation?: boolean; readOnlyRootFilesystem?: boolean };
  startupProbe?: Probe;
  readinessProbe?: Probe;
  livenessProbe?: Probe;
  lifecycle?: { preStop?: { sleep?: { seconds: number } } };
}

export interface Volume {
  name: string;
  configMap?: { name: string };
  secret?: { secretName: string };
}

export interface PodTemplate {
  /** A workload's pod template always carries the labels its selector matches. */
  metadata: { labels: Record<string, string>; annotations?: Record<string, string> };
  spec: {
    containers: Container[];
    initContainers?: Container[];
    volumes?: Volume[];
    securityContext?: { runAsNonRoot?: boolean };
    terminationGracePeriodSeconds?: number;
  };
}

export interface DeploymentSpec {
  replicas?: number;
  template: PodTemplate;
  strategy?: { rollingUpdate?: { maxUnavailable?: number | string } };
}

export interface StatefulSetSpec {
  replicas?: number;
  serviceName?: string;
  template: PodTemplate;
}

export interface AnalysisRunArgument {
  name: string;
  value?: string;
  valueFrom?: { podTemplateHashValue?: string };
}

export interface CanaryStep {
  setWeight?: number;
  pause?: { duration?: string | number };
  analysis?: { templates: { templateName: string }[]; args: AnalysisRunArgument[] };
}

export interface RolloutSpec {
  replicas?: number;
  /** Absent when the Rollout borrows a Deployment's template through `workloadRef`. */
  template?: PodTemplate;
  workloadRef?: { apiVersion?: string; kind: string; name: string };
  strategy: { canary?: { steps: CanaryStep[]; maxUnavailable?: number | string } };
}

export interface AnalysisMetric {
  name: string;
  count?: number;
  failureLimit?: number;
  successCondition?: string;
  failureCondition?: string;
  provider: { prometheus: { address: string; query: string } };
}

export interface NetworkPolicyPeer {
  podSelector?: LabelSelector;
  namespaceSelector?: LabelSelector;
  ipBlock?: { cidr: string; except?: string[] };
}

export interface NetworkPolicyPort {
  protocol?: string;
  port?: number | string;
}

export interface NetworkPolicyRule {
  ports?: NetworkPolicyPort[];
  from?: NetworkPolicyPeer[];
  to?: NetworkPolicyPeer[];
}

export interface NetworkPolicySpec {
  podSelector: LabelSelector;
  policyTypes?: ('Ingress' | 'Egress')[];
  ingress?: NetworkPolicyRule[];
  egress?: NetworkPolicyRule[];
}

/** The `spec` of each kind the tests read. */
export interface SpecOf {
  Deployment: DeploymentSpec;
  StatefulSet: StatefulSetSpec;
  Rollout: RolloutSpec;
  Service: { selector: Record<string, string>; clusterIP?: string; publishNotReadyAddresses?: boolean };
  PodDisruptionBudget: { selector: { matchLabels: Record<string, string> } };
  NetworkPolicy: NetworkPolicySpec;
  AnalysisTemplate: { metrics: AnalysisMetric[] };
  Job: { template: PodTemplate };
}

export type Kind = keyof SpecOf;

/** An object of kind K (or, for a union of kinds, one of them, told apart by `kind`). */
export type ObjectOf<K extends Kind> = K extends Kind ? K8sObject & { kind: K; spec: SpecOf[K] } : never;

/** A type guard for objects of the given kinds, e.g. `objects.filter(ofKind('Service', 'PodDisruptionBudget'))`. */
export function ofKind<K extends Kind>(...kinds: K[]): (o: K8sObject) => o is ObjectOf<K> {
  const names: readonly string[] = kinds;
  return (o): o is ObjectOf<K> => names.includes(o.kind);
}

/** The object of that kind and name, if any. */
export function findObject<K extends Kind>(objects: K8sObject[], kind: K, name: string): ObjectOf<K> | undefined {
  return objects.filter(ofKind(kind)).find((o) => o.metadata.name === name);
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

/** `value` as a mapping, or an error naming `what` it should have been (for YAML and JSON read by the tests). */
export function asRecord(value: unknown, what: string): Record<string, unknown> {
  if (!isRecord(value)) throw new Error(`${what} is not a mapping: ${JSON.stringify(value)}`);
  return value;
}

/** `value` as a list, or an error naming `what` it should have been. */
export function asList(value: unknown, what: string): unknown[] {
  if (!Array.isArray(value)) throw new Error(`${what} is not a list: ${JSON.stringify(value)}`);
  return value;
}

/** `value` as a string, or an error naming `what` it should have been. */
export function asString(value: unknown, what: string): string {
  if (typeof value !== 'string') throw new Error(`${what} is not a string: ${JSON.stringify(value)}`);
  return value;
}

function isK8sObject(value: unknown): value is K8sObject {
  return isRecord(value) && typeof value.apiVersion === 'string' && typeof value.kind === 'string' && isRecord(value.metadata) && typeof value.metadata.name === 'string';
}

export function tool(name: 'kustomize' | 'kubeconform' | 'starlark'): string {
  const path = join(TOOLS, 'bin', name);
  if (!existsSync(path)) throw new Error(`${path} is missing: run deploy/scripts/install-tools.sh`);
  return path;
}

/** Makes the overlays' Secret env files (random, git-ignored) when missing; every build of an overlay runs it first. */
export const MAKE_SECRETS = 'deploy/scripts/make-secrets.sh';

let secretsMade = false;
function makeSecrets(): void {
  if (secretsMade) return;
  execFileSync('bash', [join(ROOT, MAKE_SECRETS)], { stdio: ['ignore', 'ignore', 'inherit'] });
  secretsMade = true;
}

const rendered = new Map<string, string>();

/** `kustomize build` of an overlay (or of base) as YAML text, cached per run. */
export function renderYaml(target: Overlay | 'base'): string {
  const dir = target === 'base' ? 'deploy/k8s/base' : `deploy/k8s/overlays/${target}`;
  let text = rendered.get(dir);
  if (text === undefined) {
    if (target !== 'base') makeSecrets();
    text = execFileSync(tool('kustomize'), ['build', LOAD_RESTRICTOR, join(ROOT, dir)], {
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    });
    rendered.set(dir, text);
  }
  return text;
}

export function parseObjects(text: string): K8sObject[] {
  const objects: K8sObject[] = [];
  for (const doc of parseAllDocuments(text)) {
    const value: unknown = doc.toJS();
    if (value === null) continue;
    if (!isK8sObject(value)) throw new Error(`not a Kubernetes object (apiVersion, kind, metadata.name): ${JSON.stringify(value)}`);
    objects.push(value);
  }
  return objects;
}

export function render(target: Overlay | 'base'): K8sObject[] {
  return parseObjects(renderYaml(target));
}

/** Runs kubeconform, strict and offline, on YAML text; resolves with its JSON report. */
export function kubeconform(yamlText: string): { exitCode: number; resources: { name: string; kind: string; status: string; msg: string }[] } {
  const schemaLocations = ['kubernetes', 'argo-rollouts'].flatMap((dir) => ['-schema-location', join(TOOLS, 'schemas', dir, '{{ .ResourceKind }}{{ .KindSuffix }}.json')]);
  for (const dir of ['kubernetes', 'argo-rollouts']) {
    if (!existsSync(join(TOOLS, 'schemas', dir))) throw new Error(`schemas missing: run deploy/scripts/install-tools.sh`);
  }
  const args = ['-strict', '-output', 'json', '-verbose', ...schemaLocations, '-'];
  try {
    const out = execFileSync(tool('kubeconform'), args, { input: yamlText, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    return { exitCode: 0, resources: JSON.parse(out).resources };
  } catch (error) {
    const failure = error as { status: number; stdout: string };
    return { exitCode: failure.status, resources: JSON.parse(failure.stdout).resources };
  }
}

/** What runs pods: long-running workloads, and Jobs (one-off set-up such as initiating the MongoDB replica set). */
const WORKLOAD_KIND_LIST = ['Deployment', 'StatefulSet', 'Rollout', 'Job'] as const;
export const WORKLOAD_KINDS = new Set<string>(WORKLOAD_KIND_LIST);

export type Workload = ObjectOf<(typeof WORKLOAD_KIND_LIST)[number]>;

export function workloads(objects: K8sObject[]): Workload[] {
  return objects.filter(ofKind(...WORKLOAD_KIND_LIST));
}

/** Pod template of a workload; a Rollout with workloadRef borrows its Deployment's template. */
export function podTemplate(objects: K8sObject[], workload: Workload): PodTemplate {
  if (workload.spec?.template) return workload.spec.template;
  const ref = workload.kind === 'Rollout' ? workload.spec?.workloadRef : undefined;
  const target = workloads(objects).find((o) => o.kind === ref?.kind && o.metadata.name === ref?.name);
  if (!target?.spec?.template) throw new Error(`${workload.kind}/${workload.metadata.name} has neither a template nor a valid workloadRef`);
  return target.spec.template;
}

export function containersOf(template: PodTemplate): Container[] {
  return [...(template.spec.initContainers ?? []), ...template.spec.containers];
}
