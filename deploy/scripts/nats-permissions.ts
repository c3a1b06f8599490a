/**
 * The NATS users of the cluster, one per tracemart service, each allowed exactly the subjects its code uses: derived from
 * the event contracts (which domain publishes which types, the streams, the partitions) and the services' modules (their
 * consumers), so a consumer added to a module gets its permissions with no other edit. `renderNatsAuth` writes them as
 * the nats-server `authorization` block of deploy/k8s/base/data/nats-auth.conf:
 *   node --require tsx/cjs deploy/scripts/nats-permissions.ts           regenerate it
 *   node --require tsx/cjs deploy/scripts/nats-permissions.ts --check   exit 1 when the committed file is stale
 *
 * What each service does on NATS, and the subjects that takes (platform/messaging, platform/coordination):
 * - connects: `$JS.API.INFO` (the JetStream manager's account check); replies come to its own `_INBOX.<user>.>` (the
 *   bus sets that inbox prefix), the one subject it may subscribe to, so no service reads what another pulls;
 * - provisions every stream at start, so processes start in any order: `$JS.API.STREAM.{INFO,CREATE,UPDATE}.<stream>`;
 * - publishes the events of its own domain, `<type>.<order id>`, and nothing of another's;
 * - runs its durable consumers (one per partition when partitioned): create/update, info, pull, ack;
 * - writes its consumers' dead letters (`deadletter.<consumer>`), lists them and re-drives them (get and delete on
 *   DEADLETTER, republished to the stored subject: allowed for its own domain's events only, see `redriveSubjects`);
 * - partitioned services lease partitions in the KV bucket `partitions` under `<service>.`, and leader elections hold
 *   their role's key in `leases`.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { allStreams, eventCatalog, PARTITIONS } from '@tracemart/contracts';
import { eventConsumers, eventOwners, SERVICE_MODULES } from '@tracemart/docs';
import type { ModuleOutline } from '@tracemart/platform';

export interface NatsUser {
  user: string;
  /** The environment variable of the nats-server process holding this user's password (from the Secret `nats-users`). */
  passwordVariable: string;
  /** Subjects it may publish to; none listed means no restriction (the operators' user). */
  publish?: string[];
  subscribe?: string[];
}

/** KV buckets of platform/coordination (PartitionOwnership, LeaderElection), by their default names. */
const PARTITIONS_BUCKET = 'partitions';
const LEASES_BUCKET = 'leases';

/**
 * Leader-election roles, by service. A role is chosen inside a background job, not declared in the module, hence this
 * list: services/notification/src/jobs/retention-sweep.ts. A role missing here is refused at the service's start.
 */
export const LEADER_ROLES: Readonly<Record<string, readonly string[]>> = {
  notification: ['notification-retention'],
};

/** The user that operators take for the NATS CLI (nats-box): no restriction. */
export const OPS_USER = 'ops';

/** `NATS_PASSWORD_ORDER`: the nats-server environment variable with a user's password. */
export const passwordVariable = (user: string): string => `NATS_PASSWORD_${user.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;

/** The key of a user's password in the Secret `nats-users`. */
export const passwordKey = (user: string): string => `${user}-password`;

const domainOf = (type: string): string => type.split('.')[0]!;

/** The event types a service records (its domain's: `eventOwners` in tools/docs). */
function ownedTypes(service: string): string[] {
  return eventCatalog.types.filter((type) => eventOwners[domainOf(type) as keyof typeof eventOwners] === service);
}

/** Everything a JetStream client does with one durable (or ephemeral) consumer of `stream` named `name`. */
function consumerSubjects(stream: string, name: string): string[] {
  return [
    // A durable is created through DURABLE.CREATE (and updated through CREATE); with one filter subject, CREATE carries it.
    `$JS.API.CONSUMER.DURABLE.CREATE.${stream}.${name}`,
    `$JS.API.CONSUMER.CREATE.${stream}.${name}`,
    `$JS.API.CONSUMER.CREATE.${stream}.${name}.>`,
    `$JS.API.CONSUMER.INFO.${stream}.${name}`,
    `$JS.API.CONSUMER.MSG.NEXT.${stream}.${name}`,
    `$JS.ACK.${stream}.${name}.>`,
  ];
}

/** One KV bucket used under the given keys (a key may end in `>`): the bucket's stream, its keys, reads and key listings. */
function kvSubjects(bucket: string, keys: string[]): string[] {
  const stream = `KV_${bucket}`;
  return [
    `$JS.API.STREAM.INFO.${stream}`,
    `$JS.API.STREAM.CREATE.${stream}`,
    ...keys.flatMap((key) => [
      `$KV.${bucket}.${key}`,
      `$JS.API.DIRECT.GET.${stream}.$KV.${bucket}.${key}`,
      // A key listing is an ordered consumer with a generated name, filtered to the keys listed.
      `$JS.API.CONSUMER.CREATE.${stream}.*.$KV.${bucket}.${key}`,
    ]),
    `$JS.API.CONSUMER.INFO.${stream}.*`,
    `$JS.API.CONSUMER.DELETE.${stream}.*`,
    `$JS.FC.${stream}.>`,
  ];
}

/**
 * Re-driving a dead letter republishes it to the subject it was stored under (`<type>.<partition>.<order id>`, which the
 * stream's transform leaves as it is). That is allowed for the service's own domain only: permitting another domain's
 * stored subjects would let a service forge that domain's events. A dead letter of another domain's event is re-driven
 * by an operator (the `ops` user), see deploy/README.md.
 */
function redriveSubjects(service: string, consumed: string[]): string[] {
  return ownedTypes(service)
    .filter((type) => consumed.includes(type))
    .map((type) => `${type}.*.*`);
}

/** The users of every service in `modules` (default: all six), then the operators' user. */
export function natsUsers(modules: readonly ModuleOutline[] = SERVICE_MODULES): NatsUser[] {
  const consumers = eventConsumers(modules);
  const users = modules.map(({ name: service }): NatsUser => {
    const own = consumers.filter((c) => c.service === service);
    const durables = own.flatMap((c) =>
      (c.partitioned ? Array.from({ length: PARTITIONS }, (_, p) => `${c.durable}-p${p}`) : [c.durable]).map((name) => ({ stream: c.stream, name })),
    );
    const consumed = [...new Set(own.flatMap((c) => c.handles))].sort();
    const roles = LEADER_ROLES[service] ?? [];
    const publish = [
      '$JS.API.INFO',
      ...allStreams.flatMap((s) => ['INFO', 'CREATE', 'UPDATE'].map((action) => `$JS.API.STREAM.${action}.${s.name}`)),
      ...ownedTypes(service).map((type) => `${type}.*`),
      ...redriveSubjects(service, consumed),
      '$JS.API.STREAM.MSG.GET.DEADLETTER',
      ...(own.length > 0 ? ['$JS.API.STREAM.MSG.DELETE.DEADLETTER', ...own.map((c) => `deadletter.${c.durable}`)] : []),
      ...durables.flatMap((d) => consumerSubjects(d.stream, d.name)),
      ...(own.some((c) => c.partitioned) ? kvSubjects(PARTITIONS_BUCKET, [`${service}.>`]) : []),
      ...(roles.length > 0 ? kvSubjects(LEASES_BUCKET, [...roles]) : []),
    ];
    return { user: service, passwordVariable: passwordVariable(service), publish: [...new Set(publish)], subscribe: [`_INBOX.${service}.>`] };
  });
  return [...users, { user: OPS_USER, passwordVariable: passwordVariable(OPS_USER) }];
}

const quote = (subject: string): string => JSON.stringify(subject);

function renderList(name: string, subjects: string[], indent: string): string[] {
  return [`${indent}${name}: {`, `${indent}  allow: [`, ...subjects.map((s) => `${indent}    ${quote(s)}`), `${indent}  ]`, `${indent}}`];
}

/**
 * The nats-server configuration of `users`: an `authorization` block, included by nats.conf. Passwords are
 * `$NATS_PASSWORD_<USER>` references, resolved from the server's environment (unquoted: quoted, it would be the literal
 * text). Subjects are quoted: unquoted, `$JS...` would be read as a variable.
 */
export function renderNatsAuth(users: NatsUser[] = natsUsers()): string {
  const lines = [
    "# Generated by deploy/scripts/nats-permissions.ts from the event contracts and the services' modules: do not edit.",
    '# Regenerate: node --require tsx/cjs deploy/scripts/nats-permissions.ts (deploy/tests checks it is current).',
    '# One user per tracemart service, allowed the subjects its code uses and nothing else (deploy/scripts/nats-permissions.ts',
    '# says which and why), and `ops` without restriction for the NATS CLI. Each password is an environment variable of',
    '# the server, set from the Secret nats-users.',
    'authorization {',
    '  users = [',
  ];
  for (const user of users) {
    lines.push('    {', `      user: ${user.user}`, `      password: $${user.passwordVariable}`);
    if (user.publish || user.subscribe) {
      lines.push('      permissions: {');
      if (user.publish) lines.push(...renderList('publish', user.publish, '        '));
      if (user.subscribe) lines.push(...renderList('subscribe', user.subscribe, '        '));
      lines.push('      }');
    }
    lines.push('    }');
  }
  lines.push('  ]', '}');
  return `${lines.join('\n')}\n`;
}

/** Where the rendered configuration is committed, from the repository root. */
export const NATS_AUTH_FILE = 'deploy/k8s/base/data/nats-auth.conf';

/** Writes NATS_AUTH_FILE when it differs from `renderNatsAuth()`; with `check`, only says so and fails. */
function writeNatsAuth(check: boolean): void {
  const file = join(resolve(__dirname, '../..'), NATS_AUTH_FILE);
  const content = renderNatsAuth();
  let current: string | undefined;
  try {
    current = readFileSync(file, 'utf8');
  } catch {
    current = undefined;
  }
  if (current === content) return;
  if (check) {
    process.stderr.write(`${NATS_AUTH_FILE} is stale: run \`node --require tsx/cjs deploy/scripts/nats-permissions.ts\` and commit the result\n`);
    process.exitCode = 1;
    return;
  }
  writeFileSync(file, content);
  process.stdout.write(`wrote ${NATS_AUTH_FILE}\n`);
}

if (require.main === module) writeNatsAuth(process.argv.includes('--check'));
