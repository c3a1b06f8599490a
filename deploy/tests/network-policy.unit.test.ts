import { describe, expect, it } from 'vitest';
import { OVERLAYS, ofKind, podTemplate, render, workloads, type LabelSelector, type NetworkPolicyPeer, type NetworkPolicyPort, type ObjectOf } from './support';

// Every hop tracemart needs, as (from, to, port). "outside" is a client outside the cluster (browser, k6);
// "kube-apiserver" is any address outside the pod network. DNS to kube-dns is checked separately.
const SERVICES: [string, number][] = [
  ['user', 3001],
  ['catalog', 3002],
  ['order', 3003],
  ['inventory', 3004],
  ['payment', 3005],
  ['notification', 3006],
];
const EXPECTED: string[] = [
  'outside -> gateway:8080',
  'outside -> grafana:3000',
  ...SERVICES.map(([s, p]) => `gateway -> ${s}:${p}`),
  'order -> gateway:8080',
  ...SERVICES.flatMap(([s]) => [`${s} -> nats:4222`, `${s} -> mongodb:27017`, `${s} -> otel-collector:4317`, `${s} -> otel-collector:4318`]),
  'mongodb-rs-init -> mongodb:27017',
  'gateway -> otel-collector:4317',
  'gateway -> otel-collector:4318',
  'prometheus -> gateway:9464',
  ...SERVICES.map(([s, p]) => `prometheus -> ${s}:${p}`),
  'prometheus -> kube-apiserver:443',
  'prometheus -> kube-apiserver:6443',
  'otel-collector -> tempo:4317',
  'otel-collector -> loki:3100',
  'otel-collector -> prometheus:9090',
  'tempo -> prometheus:9090',
  'grafana -> prometheus:9090',
  'grafana -> tempo:3200',
  'grafana -> loki:3100',
];
// The public endpoints admit any peer, so a pod of another namespace (here the Argo Rollouts controller) reaches them too.
const PUBLIC_FROM_OTHER_NAMESPACES = ['argo-rollouts -> gateway:8080', 'argo-rollouts -> grafana:3000'];
const EXTRA: Record<string, string[]> = {
  dev: PUBLIC_FROM_OTHER_NAMESPACES,
  canary: [...PUBLIC_FROM_OTHER_NAMESPACES, 'argo-rollouts -> prometheus:9090'],
};

interface Peer {
  labels: Record<string, string>;
  namespace: string;
  external: boolean;
}
type NetworkPolicy = ObjectOf<'NetworkPolicy'>;

function selects(selector: LabelSelector | undefined, labels: Record<string, string>): boolean {
  if (!selector) return true;
  const byLabels = Object.entries(selector.matchLabels ?? {}).every(([k, v]) => labels[k] === v);
  const byExpressions = (selector.matchExpressions ?? []).every((e) => {
    if (e.operator === 'In') return e.values!.includes(labels[e.key]!);
    if (e.operator === 'NotIn') return !e.values!.includes(labels[e.key]!);
    if (e.operator === 'Exists') return e.key in labels;
    if (e.operator === 'DoesNotExist') return !(e.key in labels);
    throw new Error(`unknown operator ${e.operator}`);
  });
  return byLabels && byExpressions;
}

/** Whether one NetworkPolicy peer (`from`/`to` entry) covers `peer`, for a policy in namespace `ns`. */
function peerMatches(entry: NetworkPolicyPeer, peer: Peer, ns: string): boolean {
  if (entry.ipBlock) return peer.external;
  if (peer.external) return false;
  const nsLabels = { 'kubernetes.io/metadata.name': peer.namespace };
  const nsOk = entry.namespaceSelector ? selects(entry.namespaceSelector, nsLabels) : peer.namespace === ns;
  return nsOk && selects(entry.podSelector, peer.labels);
}

function portMatches(ports: NetworkPolicyPort[] | undefined, port: number, protocol: string): boolean {
  if (!ports || ports.length === 0) return true;
  return ports.some((p) => (p.protocol ?? 'TCP') === protocol && (p.port === undefined || p.port === port));
}

/** Kubernetes semantics: with no policy of a type selecting the pod, that direction is open; else any rule may allow. */
function allowed(policies: NetworkPolicy[], direction: 'Ingress' | 'Egress', pod: Peer, other: Peer, port: number, protocol = 'TCP'): boolean {
  if (pod.external) return direction === 'Egress';
  const applying = policies.filter((p) => p.spec.policyTypes!.includes(direction) && selects(p.spec.podSelector, pod.labels));
  if (applying.length === 0) return true;
  const key = direction === 'Ingress' ? 'ingress' : 'egress';
  const peers = direction === 'Ingress' ? 'from' : 'to';
  return applying.some((p) =>
    (p.spec[key] ?? []).some((rule) => {
      const entries = rule[peers];
      return portMatches(rule.ports, port, protocol) && (!entries || entries.some((e) => peerMatches(e, other, p.metadata.namespace!)));
    }),
  );
}

describe.each(OVERLAYS)('network policies in the %s overlay', (overlay) => {
  const objects = render(overlay);
  const ns = 'tracemart';
  const policies = objects.filter(ofKind('NetworkPolicy'));
  const pods = new Map<string, Peer & { ports: number[] }>();
  for (const w of workloads(objects)) {
    const template = podTemplate(objects, w);
    const ports = template.spec.containers.flatMap((c) => (c.ports ?? []).map((p) => p.containerPort));
    pods.set(w.metadata.name, { labels: template.metadata.labels, namespace: ns, external: false, ports });
  }
  const outsiders: Record<string, Peer & { ports: number[] }> = {
    outside: { labels: {}, namespace: '', external: true, ports: [] },
    'kube-apiserver': { labels: {}, namespace: '', external: true, ports: [443, 6443] },
    'argo-rollouts': { labels: { 'app.kubernetes.io/name': 'argo-rollouts' }, namespace: 'argo-rollouts', external: false, ports: [] },
  };

  it('when every pair of workloads is tried on every listening port, then exactly the expected hops are allowed', () => {
    const sources = new Map([...pods, ['outside', outsiders.outside!], ['argo-rollouts', outsiders['argo-rollouts']!]]);
    const destinations = new Map([...pods, ['kube-apiserver', outsiders['kube-apiserver']!]]);
    const actual: string[] = [];
    for (const [fromName, from] of sources) {
      for (const [toName, to] of destinations) {
        const inCluster = (p: Peer) => !p.external && p.namespace === ns;
        if (fromName === toName || (!inCluster(from) && !inCluster(to))) continue;
        for (const port of to.ports) {
          const egressOk = inCluster(from) ? allowed(policies, 'Egress', from, to, port) : true;
          const ingressOk = inCluster(to) ? allowed(policies, 'Ingress', to, from, port) : true;
          if (egressOk && ingressOk) actual.push(`${fromName} -> ${toName}:${port}`);
        }
      }
    }
    expect(actual.sort()).toEqual([...EXPECTED, ...EXTRA[overlay]!].sort());
  });

  it('when pods of one workload talk to each other, then only NATS routes and MongoDB replication are allowed', () => {
    const actual: string[] = [];
    for (const [name, pod] of pods) {
      for (const port of pod.ports) {
        if (allowed(policies, 'Egress', pod, pod, port) && allowed(policies, 'Ingress', pod, pod, port)) actual.push(`${name} -> ${name}:${port}`);
      }
    }
    expect(actual.sort()).toEqual(['mongodb -> mongodb:27017', 'nats -> nats:6222']);
  });

  it('when the nats-box debug pod is started with its label, then it reaches the NATS clients port and nothing else', () => {
    const natsBox: Peer = { labels: { 'app.kubernetes.io/name': 'nats-box' }, namespace: ns, external: false };
    const actual: string[] = [];
    for (const [name, pod] of pods) {
      for (const port of pod.ports) {
        if (allowed(policies, 'Egress', natsBox, pod, port) && allowed(policies, 'Ingress', pod, natsBox, port)) actual.push(`nats-box -> ${name}:${port}`);
      }
    }
    expect(actual).toEqual(['nats-box -> nats:4222']);
  });

  it('when any pod resolves a name, then DNS to kube-dns is allowed', () => {
    const kubeDns: Peer = { labels: { 'k8s-app': 'kube-dns' }, namespace: 'kube-system', external: false };
    for (const [name, pod] of pods) {
      expect(allowed(policies, 'Egress', pod, kubeDns, 53, 'UDP'), name).toBe(true);
      expect(allowed(policies, 'Egress', pod, kubeDns, 53, 'TCP'), name).toBe(true);
    }
  });

  it('when a pod is not named in any rule, then the default deny covers it in both directions', () => {
    const deny = policies.find((p) => Object.keys(p.spec.podSelector).length === 0 && !p.spec.ingress && !p.spec.egress);
    expect(deny?.spec.policyTypes!.sort()).toEqual(['Egress', 'Ingress']);
  });
});
