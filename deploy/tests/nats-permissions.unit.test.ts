import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { eventCatalog, PARTITIONS } from '@tracemart/contracts';
import { SERVICE_MODULES } from '@tracemart/docs';
import { natsUsers, OPS_USER, passwordKey, renderNatsAuth } from '../scripts/nats-permissions';
import { ROOT, findObject, render } from './support';

const committed = readFileSync(join(ROOT, 'deploy/k8s/base/data/nats-auth.conf'), 'utf8');
const users = natsUsers();
const userOf = (name: string) => users.find((u) => u.user === name)!;

describe('the NATS users and permissions', () => {
  const objects = render('dev');
  it('when generated from the contracts and the modules, then the committed nats-auth.conf is exactly that', () => {
    expect(committed, 'run: node --require tsx/cjs deploy/scripts/nats-permissions.ts').toBe(renderNatsAuth());
  });

  it('when listed, then there is one user per service, each subscribing to its own inbox only, and ops without restriction', () => {
    expect(users.map((u) => u.user)).toEqual([...SERVICE_MODULES.map((m) => m.name), OPS_USER]);
    for (const { name } of SERVICE_MODULES) expect(userOf(name).subscribe).toEqual([`_INBOX.${name}.>`]);
    expect(userOf(OPS_USER)).toEqual({ user: OPS_USER, passwordVariable: 'NATS_PASSWORD_OPS' });
  });

  it('when a service may publish events, then exactly those of its own domain, and user and catalog none', () => {
    const events = (name: string) => userOf(name).publish!.filter((s) => eventCatalog.types.some((type) => s.startsWith(`${type}.`)));
    expect(events('user')).toEqual([]);
    expect(events('catalog')).toEqual([]);
    expect(events('inventory')).toEqual(['inventory.reserved.*', 'inventory.rejected.*', 'inventory.released.*', 'inventory.committed.*']);
    expect(events('payment')).toEqual(['payments.charged.*', 'payments.declined.*', 'payments.refunded.*']);
    expect(events('notification')).toEqual(['notifications.sent.*']);
    // The order service re-drives the dead letters of its own read model's ORDERS consumer under their stored subjects.
    expect(events('order')).toEqual(['orders.placed.*', 'orders.confirmed.*', 'orders.cancelled.*', 'orders.placed.*.*', 'orders.confirmed.*.*', 'orders.cancelled.*.*']);
    for (const user of users) expect(user.publish ?? [], user.user).not.toContain('>');
  });

  it("when a service runs a partitioned consumer, then it may pull from each partition's durable, and no other service may", () => {
    const pulls = (name: string) => userOf(name).publish!.filter((s) => s.startsWith('$JS.API.CONSUMER.MSG.NEXT.'));
    expect(pulls('inventory')).toEqual(Array.from({ length: PARTITIONS }, (_, p) => `$JS.API.CONSUMER.MSG.NEXT.ORDERS.inventory-orders-p${p}`));
    expect(pulls('user')).toEqual([]);
    for (const other of ['order', 'payment', 'notification']) expect(pulls(other).some((s) => s.includes('inventory-orders'))).toBe(false);
  });

  it('when the NATS pods read nats-auth.conf, then nats.conf includes it, the ConfigMap carries it and every password variable comes from nats-users', () => {
    const config = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name.startsWith('nats-config-'))!;
    expect(config.data?.['nats-auth.conf']).toBe(committed);
    expect(config.data?.['nats.conf']).toMatch(/^include \.\/nats-auth\.conf$/m);
    const env = findObject(objects, 'StatefulSet', 'nats')!.spec.template.spec.containers[0]!.env ?? [];
    const referenced = [...committed.matchAll(/password: \$(\w+)/g)].map((m) => m[1]);
    expect(referenced).toEqual(users.map((u) => u.passwordVariable));
    for (const user of users) {
      const ref = env.find((e) => e.name === user.passwordVariable)?.valueFrom?.secretKeyRef;
      expect(ref?.name.startsWith('nats-users-'), user.user).toBe(true);
      expect(ref?.key, user.user).toBe(passwordKey(user.user));
    }
  });
});
