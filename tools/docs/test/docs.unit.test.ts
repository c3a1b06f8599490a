import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import Ajv from 'ajv';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import { createBaseApp, createLogger, newEnvelope } from '@tracemart/platform';
import { eventSchemas, partitionOf, placeOrderBodySchema, validateEvent, type EventData, type EventType } from '@tracemart/contracts';
import { ADMIN_PREFIX, ADMIN_ROUTES, API_PREFIX, API_ROUTES } from '@tracemart/gateway/routes';
import { buildAsyncApi, buildOpenApi, documentedRoutes, eventConsumers, SERVICE_MODULES, messageName, openApiPath, PROBE_ROUTES, renderDocs } from '../src';

const root = resolve(__dirname, '../../..');
const read = (path: string) => readFileSync(join(root, path), 'utf8');

type Node = Record<string, unknown>;
const asyncapi = buildAsyncApi();
const openapi = buildOpenApi();
const at = (doc: Node, ...keys: string[]): Node => keys.reduce<Node>((node, key) => (node[key] ?? {}) as Node, doc);

/** Every `$ref` in a document with the JSON pointer it sits at. */
function refsIn(node: unknown, path = '#'): { ref: string; at: string }[] {
  if (Array.isArray(node)) return node.flatMap((item, index) => refsIn(item, `${path}/${index}`));
  if (node === null || typeof node !== 'object') return [];
  return Object.entries(node).flatMap(([key, value]) => (key === '$ref' && typeof value === 'string' ? [{ ref: value, at: path }] : refsIn(value, `${path}/${key}`)));
}

function resolvePointer(doc: Node, ref: string): unknown {
  if (!ref.startsWith('#/')) return undefined;
  return ref
    .slice(2)
    .split('/')
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce<unknown>((node, key) => (node !== null && typeof node === 'object' ? (node as Node)[key] : undefined), doc);
}

describe('generated docs', () => {
  it('when generated, then they equal the checked-in files (run `npm run docs` to refresh)', () => {
    for (const doc of renderDocs()) expect(read(doc.path), `${doc.path} is stale: run npm run docs`).toBe(doc.content);
  });

  it('when generated twice, then the output is byte-identical', () => {
    expect(renderDocs()).toEqual(renderDocs());
  });
});

describe('asyncapi.yaml', () => {
  const channels = at(asyncapi, 'channels');
  const messages = at(asyncapi, 'components', 'messages');
  const operations = Object.values(at(asyncapi, 'operations')) as Node[];

  it('when read, then it has the required top-level fields and the two NATS servers', () => {
    expect(asyncapi.asyncapi).toBe('3.0.0');
    expect(at(asyncapi, 'info')).toMatchObject({
      title: expect.any(String),
      version: expect.any(String),
    });
    expect(at(asyncapi, 'servers')).toEqual({
      local: expect.objectContaining({
        host: '127.0.0.1:4250',
        protocol: 'nats',
      }),
      cluster: expect.objectContaining({ host: 'nats:4222', protocol: 'nats' }),
    });
  });

  it.each(Object.keys(eventSchemas))('when %s is a contract, then it has a channel, a message, a sender and its data schema', (type) => {
    const name = messageName(type);
    expect(at(channels, type).address).toBe(`${type}.{orderId}`);
    expect(at(channels, type, 'messages', name)).toEqual({
      $ref: `#/components/messages/${name}`,
    });
    expect(at(messages, name, 'payload', 'properties', 'data')).toEqual({
      $ref: `#/components/schemas/${name}Data`,
    });
    expect(at(messages, name, 'payload', 'required')).toEqual(['id', 'type', 'schemaVersion', 'occurredAt', 'source', 'correlationId', 'data']);
    const senders = operations.filter((op) => op.action === 'send' && at(op, 'channel').$ref === `#/channels/${type}`);
    expect(senders).toHaveLength(1);
  });

  it('when an operation names messages, then each belongs to its channel (AsyncAPI 3 rule)', () => {
    for (const op of operations) {
      expect(['send', 'receive']).toContain(op.action);
      const channel = String(at(op, 'channel').$ref);
      for (const message of op.messages as Node[]) expect(String(message.$ref).startsWith(`${channel}/messages/`)).toBe(true);
    }
  });

  it('when any $ref is followed, then it resolves inside the document', () => {
    for (const { ref, at: where } of refsIn(asyncapi)) expect(resolvePointer(asyncapi, ref), `${ref} at ${where}`).toBeDefined();
  });

  it('when a consumer is added to a service module, then the AsyncAPI document gains it with no other edit', () => {
    const [first, ...rest] = SERVICE_MODULES;
    if (!first) throw new Error('no service modules');
    const extra = { durable: `${first.name}-docs-probe`, on: { 'orders.confirmed': async () => undefined } };
    const widened = [{ ...first, consumers: [...(first.consumers ?? []), extra] }, ...rest];
    const before = buildAsyncApi();
    const after = buildAsyncApi(widened);
    expect(at(before, 'operations')[`${extra.durable}.receive.orders.confirmed`]).toBeUndefined();
    expect(at(after, 'operations')[`${extra.durable}.receive.orders.confirmed`]).toMatchObject({ action: 'receive', tags: [{ name: first.name }] });
    expect(String(at(after, 'channels', 'orders.confirmed').description)).toContain(extra.durable);
    expect(at(after, 'channels', 'deadletter', 'parameters', 'consumer').enum).toContain(extra.durable);
  });

  it('when the documented consumers are listed, then they are exactly those the service modules declare', () => {
    const declared = SERVICE_MODULES.flatMap((module) => (module.consumers ?? []).map((consumer) => consumer.durable)).sort();
    expect(eventConsumers(SERVICE_MODULES).map((consumer) => consumer.durable).sort()).toEqual(declared);
    expect(new Set(declared).size).toBe(declared.length);
  });

  it('when a consumer handles an event, then one of its filter subjects delivers that event as the stream stores it', () => {
    // NATS matching: `*` one token, `>` the rest; stored subjects are `<type>.<partition>.<orderId>`.
    const matches = (filter: string, subject: string): boolean => {
      const [f, s] = [filter.split('.'), subject.split('.')];
      return f.every((token, i) => token === '>' || (i < s.length && (token === '*' || token === s[i]))) && (f.at(-1) === '>' ? s.length >= f.length : s.length === f.length);
    };
    for (const consumer of eventConsumers(SERVICE_MODULES)) {
      for (const type of consumer.handles) {
        const stored = `${type}.${partitionOf('o-1')}.o-1`;
        expect(
          consumer.subjects.some((filter) => matches(filter, stored)),
          `${consumer.durable} cannot see ${stored}`,
        ).toBe(true);
      }
    }
  });

  it('when a valid event is checked against its documented payload, then the JSON Schema agrees with zod', () => {
    const ajv = new Ajv({ strict: false, allErrors: true });
    addFormats(ajv);
    ajv.addSchema(asyncapi, 'asyncapi');
    const orderId = '0b7e4d5c-1a2b-4c3d-8e9f-001122334455';
    const samples: { [T in EventType]?: EventData<T> } = {
      'orders.placed': {
        orderId,
        userId: 'u1',
        items: [{ productId: 'p1', name: 'Mug', quantity: 2, unitPriceCents: 500 }],
        totalCents: 1000,
        paymentToken: 'tok_visa',
      },
      'orders.cancelled': { orderId, userId: 'u1', reason: 'OUT_OF_STOCK' },
      'inventory.rejected': {
        orderId,
        reason: 'OUT_OF_STOCK',
        productId: 'p1',
      },
      'payments.charged': { orderId, paymentId: 'pay-1', amountCents: 1000 },
    };
    for (const [type, data] of Object.entries(samples)) {
      const { trace: _trace, ...wire } = validateEvent(newEnvelope(type, data, { source: 'test', correlationId: orderId }));
      const validate = ajv.getSchema(`asyncapi#/components/messages/${messageName(type)}/payload`);
      expect(validate?.(wire), `${type}: ${JSON.stringify(validate?.errors)}`).toBe(true);
      expect(validate?.({ ...wire, data: {} }), `${type} without data fields`).toBe(false);
      expect(validate?.({ ...wire, type: 'something.else' }), `${type} under another type`).toBe(false);
    }
  });
});

describe('openapi.yaml', () => {
  const paths = at(openapi, 'paths');
  const documented = new Set(Object.entries(paths).flatMap(([path, item]) => Object.keys(item as Node).map((method) => `${method.toUpperCase()} ${path}`)));

  it('when read, then it has the required top-level fields and both security schemes', () => {
    expect(openapi.openapi).toBe('3.1.0');
    expect(at(openapi, 'info')).toMatchObject({
      title: expect.any(String),
      version: expect.any(String),
    });
    expect(Object.keys(paths).length).toBeGreaterThan(0);
    expect(at(openapi, 'components', 'securitySchemes')).toMatchObject({
      bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
      adminToken: { type: 'apiKey', in: 'header', name: 'x-admin-token' },
    });
  });

  it("when the gateway's route tables are read, then each route is documented under its prefix, and each documented /api or /admin route is in a table", () => {
    const tables = [...API_ROUTES.map((route) => ({ route, prefix: API_PREFIX })), ...ADMIN_ROUTES.map((route) => ({ route, prefix: ADMIN_PREFIX }))];
    const inTables = new Set(tables.map(({ route, prefix }) => `${route.method.toUpperCase()} ${openApiPath(prefix, route.path)}`));
    expect(inTables).toContain('POST /api/orders');
    expect(inTables).toContain('POST /admin/consumers/pause');
    expect(inTables.size, 'two table entries share a method and path').toBe(tables.length);
    for (const route of inTables) expect(documented, `${route} is not in openapi.yaml`).toContain(route);
    for (const route of documented) if (route.includes(` ${API_PREFIX}/`) || route.includes(` ${ADMIN_PREFIX}/`)) expect(inTables, `${route} is documented but in no table`).toContain(route);
  });

  it('when the platform scaffold is built, then the probes it registers are exactly the documented ones', () => {
    const app = createBaseApp({ logger: createLogger('docs-test', 'silent'), readiness: { ready: true, checks: {} } });
    const registered = app.router.stack.flatMap((layer) => (layer.route ? layer.route.stack.map((handler) => `${handler.method.toUpperCase()} ${layer.route?.path}`) : []));
    expect(registered.sort()).toEqual(PROBE_ROUTES.map((route) => `${route.method.toUpperCase()} ${route.path}`).sort());
  });

  it('when an operation is read, then it is complete: unique id, declared path parameters, known tags and schemes, trace headers', () => {
    const tags = new Set((openapi.tags as Node[]).map((tag) => tag.name));
    const schemes = new Set(Object.keys(at(openapi, 'components', 'securitySchemes')));
    const ids = Object.values(paths).flatMap((item) => Object.values(item as Node).map((op) => (op as Node).operationId));
    expect(ids).toHaveLength(documentedRoutes().length);
    expect(new Set(ids).size).toBe(ids.length);
    for (const [path, item] of Object.entries(paths)) {
      for (const op of Object.values(item as Node) as Node[]) {
        const declared = (op.parameters as Node[]).filter((param) => param.in === 'path').map((param) => param.name);
        expect(declared.sort()).toEqual([...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort());
        for (const tag of op.tags as string[]) expect(tags).toContain(tag);
        for (const requirement of op.security as Node[]) for (const scheme of Object.keys(requirement)) expect(schemes).toContain(scheme);
        for (const [status, response] of Object.entries(op.responses as Node)) {
          expect(Object.keys(at(response as Node, 'headers'))).toEqual(expect.arrayContaining(['x-request-id', 'x-trace-id']));
          if (status === '429' || status === '503') expect(at(response as Node, 'headers')).toHaveProperty('Retry-After');
        }
      }
    }
  });

  it('when POST /api/orders is read, then it documents the Idempotency-Key, the 202 and every refusal', () => {
    const placeOrder = at(paths, '/api/orders', 'post');
    expect((placeOrder.parameters as Node[]).map((param) => param.name)).toContain('Idempotency-Key');
    expect(Object.keys(placeOrder.responses as Node)).toEqual(['202', '400', '401', '413', '415', '422', '429', '500', '503']);
    expect(placeOrder.security).toEqual([{ bearerAuth: [] }]);
  });

  it('when any $ref is followed, then it resolves inside the document', () => {
    for (const { ref, at: where } of refsIn(openapi)) expect(resolvePointer(openapi, ref), `${ref} at ${where}`).toBeDefined();
  });

  it('when every component schema is compiled as JSON Schema 2020-12, then it is valid, and the bodies agree with zod', () => {
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    addFormats(ajv);
    for (const [name, schema] of Object.entries(at(openapi, 'components', 'schemas'))) {
      expect(ajv.validateSchema(schema as Node), `${name}: ${JSON.stringify(ajv.errors)}`).toBe(true);
    }
    ajv.addSchema(openapi, 'openapi');
    const body = {
      items: [{ productId: 'mug-1', quantity: 2 }],
      paymentToken: 'tok_visa',
    };
    const validateBody = ajv.getSchema('openapi#/components/schemas/PlaceOrderBody');
    expect(placeOrderBodySchema.safeParse(body).success).toBe(true);
    expect(validateBody?.(body)).toBe(true);
    expect(validateBody?.({ ...body, extra: true })).toBe(false);
    expect(
      ajv.getSchema('openapi#/components/schemas/ErrorBody')?.({
        error: { code: 'ORDER.NOT_FOUND', message: 'no such order' },
      }),
    ).toBe(true);
  });
});
