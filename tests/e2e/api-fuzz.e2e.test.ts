import { createHash, createHmac, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import fc from 'fast-check';
import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_PREFIX, ADMIN_ROUTES, API_PREFIX, API_ROUTES, consumersBodySchema, type HttpMethod, type RouteDoc } from '@tracemart/gateway/routes';
import { faultSpecSchema, signAccessToken } from '@tracemart/platform';
import { startStack, type Stack } from '@tracemart/stack';
import { apiClient, eventually, repoRoot, signUp } from '@tracemart/testing';

/**
 * Property-based fuzzing of the public API (and the admin API) through the gateway, on a real stack (issue 12).
 * Every route of the gateway's route table gets random JSON bodies (deep nesting, huge strings, NUL and other control
 * characters, `__proto__` and `$where` keys, wrong types, any unicode), random query strings, content types, bogus
 * credentials, Idempotency-Key variants and odd path segments (encoded dots and slashes, NUL, very long ids), anonymous
 * and as a signed-in user. Properties:
 * - every answer is 2xx or 4xx (429 included), never 5xx, and a 4xx carries a JSON error body;
 * - a batch whose writes were all refused wrote nothing: each service's MongoDB documents and every JetStream stream's
 *   last sequence are the same after the batch as before (see `fingerprint` for what is left out, and why);
 * - at the end every process answers /readyz, and none was restarted (the stack's supervisor is off, pids compared).
 *
 * FUZZ_REQUESTS (default 2000) requests in batches of BATCH, sent concurrently; FUZZ_SEED replays a run (the seed is
 * printed at the start and in the failure). The gateway's limits are raised for the run (GATEWAY_ENV); the admin API's
 * own limit (10/s per address, fixed) may still answer 429 to admin requests, which the properties allow.
 */
const FUZZ_REQUESTS = Number(process.env.FUZZ_REQUESTS ?? 2_000);
const BATCH = 25;
const SEED = process.env.FUZZ_SEED !== undefined ? Number(process.env.FUZZ_SEED) : Math.floor(Math.random() * 2 ** 31);
/**
 * The gateway's limits for the run. The rate limit is raised so that the fuzz reaches the services rather than mostly
 * the limiter. The timeouts are lengthened so that a slow (shared, loaded) machine does not turn into 503s that say
 * nothing about input handling: the payment probe (300 ms by default) then failed and closed checkout, and upstream
 * calls ran past 5 s. A request slow because of what it carries would still show: past 15 s it is a 503.
 */
const GATEWAY_ENV = { RATE_LIMIT_PER_SECOND: '10000', RATE_LIMIT_BURST: '10000', PAYMENT_PROBE_TIMEOUT_MS: '3000', UPSTREAM_TIMEOUT_MS: '15000', REQUEST_DEADLINE_MS: '20000' };
/** Services whose consumers a valid pause would stop: the fuzz must not change the system it observes. */
const SERVICES_WITH_CONSUMERS = new Set(['order', 'inventory', 'payment', 'notification']);

let stack: Stack;
let dataDir: string;
let mongo: MongoClient;
let userToken: string;
let ghostToken: string;
let oddSubjectTokens: string[];
let productIds: string[];
let orderId: string;
const say = (line: string) => process.stdout.write(`[api-fuzz ${new Date().toISOString().slice(11, 23)}] ${line}\n`);

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'tracemart-fuzz-'));
  stack = await startStack({
    root: repoRoot,
    dataDir,
    freePorts: true,
    ephemeral: true,
    natsNodes: 1,
    instances: 1,
    // A crash must stay visible: restarted, a process would answer /readyz again by the end.
    supervise: false,
    readyTimeoutMs: 200_000,
    env: { LOG_LEVEL: 'warn' },
    envFor: { gateway: GATEWAY_ENV },
  });
  mongo = await MongoClient.connect(stack.mongoUrl);
  const api = apiClient(stack.gatewayUrl);
  const shopper = await signUp(api, 'Fuzzer');
  userToken = await loginToken(shopper.email, shopper.password);
  // Correctly signed tokens of users that do not exist, with ordinary and odd subjects: the services behind must cope.
  ghostToken = await signAccessToken({ sub: randomUUID(), name: 'Ghost' }, stack.jwtSecret, 600);
  oddSubjectTokens = await Promise.all(
    ['$where', '__proto__', 'a.b', 'x'.repeat(2_000), 'ünï©ødé', '../../admin'].map((sub) => signAccessToken({ sub, name: 'Odd' }, stack.jwtSecret, 600)),
  );
  productIds = (await api.get<{ items: { id: string }[] }>('/api/products?limit=100')).body.items.map((p) => p.id);
  // One real order for the order routes to find. Keyed, so that a retry (a start-up 503 on a slow machine) is one order.
  const placed = await eventually(
    () => shopper.client.post<{ id: string }>('/api/orders', { items: [{ productId: productIds[0], quantity: 1 }], paymentToken: 'tok_visa' }, { 'idempotency-key': 'fuzz-order' }),
    (answer) => answer.status === 202,
    60_000,
  );
  orderId = placed.body.id;
  await eventually(
    async () => (await shopper.client.get<{ status: string }>(`/api/orders/${orderId}`)).body.status,
    (status) => status !== 'PENDING',
    30_000,
  );
}, 300_000);

afterAll(async () => {
  await mongo?.close();
  await stack?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

async function loginToken(email: string, password: string): Promise<string> {
  const login = await apiClient(stack.gatewayUrl).post<{ token: string }>('/api/users/login', { email, password });
  return login.body.token;
}

interface FuzzRequest {
  /** The route as the table names it: `POST /api/orders`. */
  route: string;
  method: Uppercase<HttpMethod>;
  /** Path and query, as sent. */
  target: string;
  headers: Record<string, string>;
  body?: string;
  /** Whether a success would be a write: the fingerprint is compared only around batches where none succeeded. */
  write: boolean;
}

/** encodeURIComponent, with lone surrogates (which it refuses) replaced first. */
const encode = (value: string) => encodeURIComponent(value.replace(/[\ud800-\udfff]/g, (c, i: number, all: string) => (isPaired(all, i) ? c : '\ufffd')));
const isPaired = (all: string, i: number) => {
  const code = all.charCodeAt(i);
  return code < 0xdc00 ? (all.charCodeAt(i + 1) & 0xfc00) === 0xdc00 : (all.charCodeAt(i - 1) & 0xfc00) === 0xd800;
};

/** A JSON-like tree whose objects are lists of entries, so that keys like `__proto__` and duplicates reach the wire. */
type Tree = null | boolean | number | string | { array: Tree[] } | { entries: [string, Tree][] };

const controlCharacter = fc.constantFrom('\u0000', '\u0001', '\u0008', '\u001b', '\u007f', '\t', '\n', '\r', '\u2028', '\ufeff', '\ud800');
const evilKey = fc.constantFrom('__proto__', 'constructor', 'prototype', '$where', '$gt', '$ne', 'a.b', '\u0000', 'toString', '', ' ', 'x'.repeat(300));
const text = fc.oneof(
  { weight: 4, arbitrary: fc.string({ maxLength: 30 }) },
  { weight: 3, arbitrary: fc.string({ unit: 'binary', maxLength: 30 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 20 }) },
  { weight: 3, arbitrary: fc.tuple(fc.string({ maxLength: 10 }), controlCharacter, fc.string({ maxLength: 10 })).map(([a, c, b]) => `${a}${c}${b}`) },
  { weight: 1, arbitrary: fc.integer({ min: 1_000, max: 70_000 }).map((n) => 'x'.repeat(n)) },
);
const primitive: fc.Arbitrary<Tree> = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.constantFrom(0, -1, 1e308, -0, 2 ** 53 + 1, 1.5),
  text,
);
const { tree } = fc.letrec<{ tree: Tree; array: Tree; object: Tree }>((tie) => ({
  tree: fc.oneof({ depthSize: 'small', withCrossShrink: true }, primitive, tie('array'), tie('object')),
  array: fc.array(tie('tree'), { maxLength: 4 }).map((array) => ({ array })),
  object: fc.array(fc.tuple(fc.oneof({ weight: 3, arbitrary: fc.string({ maxLength: 12 }) }, evilKey), tie('tree')), { maxLength: 4 }).map((entries) => ({ entries })),
}));

const toJson = (value: Tree): string => {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if ('array' in value) return `[${value.array.map(toJson).join(',')}]`;
  return `{${value.entries.map(([key, item]) => `${JSON.stringify(key)}:${toJson(item)}`).join(',')}}`;
};
const fromPlain = (value: unknown): Tree => {
  if (Array.isArray(value)) return { array: value.map(fromPlain) };
  if (value !== null && typeof value === 'object') return { entries: Object.entries(value).map(([key, item]) => [key, fromPlain(item)]) };
  return value as Tree;
};

/** Valid bodies of the routes that take one (by the body schema's name in the route table), to mutate. */
const validBodies = (id: string): Record<string, unknown> => ({
  RegisterBody: { email: `fuzz-${id}@example.com`, password: 'fuzz-password-1', name: 'Fuzz' },
  LoginBody: { email: 'fuzzer@example.com', password: 'fuzz-password-1' },
  PlaceOrderBody: { items: [{ productId: productIds[1], quantity: 1 }], paymentToken: 'tok_visa' },
  FaultSpec: { service: 'catalog', kind: 'error', durationSeconds: 1, route: '/products' },
  ConsumersBody: { service: 'order' },
});

/** One change to a valid body: a field replaced, removed or added, the body wrapped, or kept (rarely valid then). */
const mutation: fc.Arbitrary<(body: Tree) => Tree> = fc.oneof(
  fc.tuple(fc.nat(), tree).map(
    ([at, value]) =>
      (body: Tree) =>
        replaceAt(body, at, value),
  ),
  fc.tuple(fc.oneof(evilKey, fc.string({ maxLength: 8 })), tree).map(
    ([key, value]) =>
      (body: Tree) =>
        body !== null && typeof body === 'object' && 'entries' in body ? { entries: [...body.entries, [key, value] as [string, Tree]] } : body,
  ),
  fc
    .nat()
    .map(
      (at) => (body: Tree) =>
        body !== null && typeof body === 'object' && 'entries' in body && body.entries.length > 0
          ? { entries: body.entries.filter((_, i) => i !== at % body.entries.length) }
          : body,
    ),
  fc.constant((body: Tree): Tree => ({ array: [body] })),
  fc.integer({ min: 2, max: 40 }).map((depth) => (body: Tree) => nest(body, depth)),
);

/** Replaces the `at`-th node (depth first) of `body` with `value`. */
function replaceAt(body: Tree, at: number, value: Tree): Tree {
  let count = 0;
  const target = at % Math.max(1, size(body));
  const walk = (node: Tree): Tree => {
    if (count++ === target) return value;
    if (node === null || typeof node !== 'object') return node;
    if ('array' in node) return { array: node.array.map(walk) };
    return { entries: node.entries.map(([key, item]) => [key, walk(item)]) };
  };
  return walk(body);
}
function size(node: Tree): number {
  if (node === null || typeof node !== 'object') return 1;
  if ('array' in node) return 1 + node.array.reduce<number>((sum, item) => sum + size(item), 0);
  return 1 + node.entries.reduce<number>((sum, [, item]) => sum + size(item), 0);
}
function nest(body: Tree, depth: number): Tree {
  let node = body;
  for (let i = 0; i < depth; i++) node = i % 2 ? { array: [node] } : { entries: [['a', node]] };
  return node;
}

/** A body as text: mutated valid ones (past the edge's checks, to the services), random JSON, broken JSON, deep nesting. */
const bodyFor = (schemaName: string | undefined): fc.Arbitrary<string | undefined> =>
  fc.oneof(
    {
      weight: schemaName ? 6 : 0,
      arbitrary: fc
        .tuple(fc.uuid(), fc.array(mutation, { minLength: 1, maxLength: 3 }))
        .map(([id, changes]) => toJson(changes.reduce((body, change) => change(body), fromPlain(validBodies(id)[schemaName ?? ''])))),
    },
    { weight: 3, arbitrary: tree.map(toJson) },
    // A huge string in an otherwise valid body: under the gateway's 64 kb body limit (a 400 from the schema) and over it (413).
    {
      weight: schemaName ? 1 : 0,
      arbitrary: fc
        .tuple(fc.uuid(), fc.nat(), fc.integer({ min: 1_000, max: 100_000 }))
        .map(([id, at, length]) => toJson(replaceAt(fromPlain(validBodies(id)[schemaName ?? '']), 1 + at, 'x'.repeat(length)))),
    },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        '',
        '{',
        '{"a":',
        '[1,]',
        'null',
        '"\u0000"',
        '\ufeff{}',
        '{"a":1}{"b":2}',
        'NaN',
        '{"__proto__":{"admin":true}}',
        '{"constructor":{"prototype":{"x":1}}}',
      ),
    },
    { weight: 1, arbitrary: fc.integer({ min: 9, max: 20_000 }).map((depth) => `${'['.repeat(depth)}${']'.repeat(depth)}`) },
    { weight: 1, arbitrary: fc.integer({ min: 9, max: 5_000 }).map((depth) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`) },
    { weight: 1, arbitrary: fc.constant(undefined) },
  );

/** A path segment for a `:param`: real ids, uuids, encoded dots, slashes and NUL, odd characters, very long ids. */
const segment = (): fc.Arbitrary<string> =>
  fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...productIds, orderId) },
    { weight: 2, arbitrary: fc.uuid() },
    {
      weight: 4,
      arbitrary: fc.constantFrom(
        '%2e',
        '%2e%2e',
        '%2E%2e',
        '.%2e',
        '%2f',
        '..%2f..%2fadmin%2ffaults',
        '%00',
        'a%00b',
        '%0d%0aX-Injected:%201',
        '%5c',
        '%',
        '%zz',
        '%c0%ae',
        '%ef%bc%8e',
        '%E2%80%AE',
        '%ff%fe',
        '%20',
        '+',
        ';x=1',
        '*',
        '$where',
        '%24where',
        '__proto__',
        'constructor',
        '%7B%22%24ne%22%3A1%7D',
      ),
    },
    { weight: 2, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 40 }).map(encode) },
    // Long, but with the query and headers under Node's 16 KiB header limit (past it Node itself answers 431, bodiless).
    { weight: 1, arbitrary: fc.integer({ min: 65, max: 5_000 }).map((n) => 'a'.repeat(n)) },
  );

/** A query string: the route's own parameters (from the table) and others, with odd and encoded values. */
const queryFor = (doc: RouteDoc): fc.Arbitrary<string> => {
  const names = (doc.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name);
  const value = fc.oneof(
    fc.string({ maxLength: 20 }).map(encode),
    fc.string({ unit: 'binary', maxLength: 20 }).map(encode),
    fc.constantFrom(
      '%00electronics',
      '-1',
      '0',
      '1e9',
      '99999999999999999999',
      'not-a-date',
      '2026-13-45T99:99:99Z',
      '%',
      '%zz',
      'a,'.repeat(500),
      'x'.repeat(1_000),
      '[]',
      '%5B%5D',
    ),
  );
  const part = fc.oneof(
    { weight: names.length > 0 ? 3 : 0, arbitrary: fc.tuple(fc.constantFrom(...(names.length > 0 ? names : ['x'])), value).map(([k, v]) => `${k}=${v}`) },
    { weight: 1, arbitrary: fc.tuple(fc.string({ maxLength: 8 }).map(encode), value).map(([k, v]) => `${k}=${v}`) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        '__proto__[admin]=1',
        '%24where=1',
        '$gt=',
        'a[b][c]=1',
        'constructor.prototype=1',
        '&&',
        '=',
        'page=1&page=2',
        'service=constructor',
        'service=__proto__',
      ),
    },
  );
  return fc.array(part, { maxLength: 4 }).map((parts) => (parts.length > 0 ? `?${parts.join('&')}` : ''));
};

/** Header values are bytes: printable ASCII and Latin-1 only (what a client can send at all). */
const headerText = (maxLength: number) =>
  fc.string({ unit: fc.oneof(fc.integer({ min: 0x20, max: 0x7e }), fc.integer({ min: 0xa0, max: 0xff })).map((c) => String.fromCharCode(c)), maxLength });
const contentType = fc.option(
  fc.oneof(
    fc.constantFrom(
      'application/json',
      'application/json; charset=utf-8',
      'application/json; charset=utf-16',
      'application/json; charset=latin1',
      'application/merge-patch+json',
      'text/plain',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=----x',
      'application/xml',
      '*/*',
      '',
    ),
    headerText(40),
  ),
  { freq: 4 },
);
const idempotencyKey = fc.option(fc.oneof(fc.uuid(), fc.constantFrom('', 'a b', 'k'.repeat(201), 'k'.repeat(200), 'clé', '../x', '$where', '__proto__'), headerText(60)), {
  freq: 2,
});

/** The bearer token of a request: none, the signed-in user's, bogus ones, and valid ones naming no (or an odd) user. */
const authorization = (): fc.Arbitrary<string | undefined> =>
  fc.oneof(
    { weight: 4, arbitrary: fc.constant(undefined) },
    { weight: 5, arbitrary: fc.constant(`Bearer ${userToken}`) },
    { weight: 1, arbitrary: fc.constant(`Bearer ${ghostToken}`) },
    { weight: 1, arbitrary: fc.constantFrom(...oddSubjectTokens.map((t) => `Bearer ${t}`)) },
    {
      weight: 3,
      arbitrary: fc.oneof(
        fc.constantFrom(
          'Bearer',
          'Bearer ',
          'Basic dXNlcjpwYXNz',
          'Bearer a.b.c',
          `bearer ${userToken}`,
          `Bearer ${userToken}x`,
          `Bearer ${userToken} ${userToken}`,
          `Bearer ${'A'.repeat(3_000)}`,
          `Bearer ${forged('none')}`,
          `Bearer ${forged('wrong-secret')}`,
        ),
        headerText(80).map((value) => `Bearer ${value}`),
      ),
    },
  );

/** A token for the signed-in user's id that the gateway must refuse: unsigned (`alg: none`), or signed with another secret. */
function forged(how: 'none' | 'wrong-secret'): string {
  const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const claims = encode({ sub: 'someone', name: 'Forger', iss: 'tracemart-user', aud: 'tracemart', exp: Math.floor(Date.now() / 1000) + 600 });
  if (how === 'none') return `${encode({ alg: 'none', typ: 'JWT' })}.${claims}.`;
  const unsigned = `${encode({ alg: 'HS256', typ: 'JWT' })}.${claims}`;
  return `${unsigned}.${createHmac('sha256', 'not-the-secret-not-the-secret-!!').update(unsigned).digest('base64url')}`;
}

const expand = (path: string, segments: string[]) => {
  let i = 0;
  return path.replace(/:\w+/g, () => segments[i++] ?? 'x');
};

/** Public routes, every one of API_ROUTES. */
const apiRequest = (): fc.Arbitrary<FuzzRequest> =>
  fc.constantFrom(...API_ROUTES).chain((route) =>
    fc
      .record({
        segments: fc.array(segment(), { minLength: 3, maxLength: 3 }),
        query: queryFor(route),
        body: route.method === 'get' ? fc.constant(undefined) : bodyFor(route.body),
        contentType,
        authorization: authorization(),
        idempotencyKey,
      })
      .map(({ segments, query, body, contentType: type, authorization: auth, idempotencyKey: key }): FuzzRequest => ({
        route: `${route.method.toUpperCase()} ${API_PREFIX}${route.path}`,
        method: route.method.toUpperCase() as FuzzRequest['method'],
        target: `${API_PREFIX}${expand(route.path, segments)}${query}`,
        headers: { ...(type !== null ? { 'content-type': type } : {}), ...(auth ? { authorization: auth } : {}), ...(key !== null ? { 'idempotency-key': key } : {}) },
        ...(body !== undefined ? { body } : {}),
        write: route.method !== 'get',
      })),
  );

/** Admin routes, with and without the admin token; a request that would change the system (a valid fault or pause) is never made. */
const adminRequest = (): fc.Arbitrary<FuzzRequest> =>
  fc
    .constantFrom(...ADMIN_ROUTES)
    .chain((route: (typeof ADMIN_ROUTES)[number]) =>
      fc
        .record({
          segments: fc.array(segment(), { minLength: 1, maxLength: 1 }),
          query: queryFor(route),
          body: route.method === 'post' ? bodyFor('body' in route ? route.body : undefined) : fc.constant(undefined),
          contentType,
          token: fc.oneof({ weight: 3, arbitrary: fc.constant<string | null>(stack.adminToken) }, { weight: 1, arbitrary: fc.option(headerText(40)) }),
        })
        .map(({ segments, query, body, contentType: type, token }): FuzzRequest => ({
          route: `${route.method.toUpperCase()} ${ADMIN_PREFIX}${route.path}`,
          method: route.method.toUpperCase() as FuzzRequest['method'],
          target: `${ADMIN_PREFIX}${expand(route.path, segments)}${query}`,
          headers: { ...(type !== null ? { 'content-type': type } : {}), ...(typeof token === 'string' ? { 'x-admin-token': token } : {}) },
          ...(body !== undefined ? { body } : {}),
          write: route.method !== 'get',
        })),
    )
    .filter((request) => !changesTheSystem(request));

/** Whether the gateway would accept this admin request as a fault to inject or consumers to pause or resume. */
function changesTheSystem(request: FuzzRequest): boolean {
  if (request.method !== 'POST' || request.body === undefined || request.headers['x-admin-token'] !== stack.adminToken) return false;
  let value: unknown;
  try {
    value = JSON.parse(request.body);
  } catch {
    return false;
  }
  if (request.target.startsWith(`${ADMIN_PREFIX}/faults`)) return faultSpecSchema.safeParse(value).success;
  const consumers = consumersBodySchema.safeParse(value);
  return consumers.success && SERVICES_WITH_CONSUMERS.has(consumers.data.service);
}

const fuzzRequest = (): fc.Arbitrary<FuzzRequest> => fc.oneof({ weight: 9, arbitrary: apiRequest() }, { weight: 1, arbitrary: adminRequest() });

interface Answer {
  status: number;
  contentType: string;
  text: string;
}

async function send(request: FuzzRequest): Promise<Answer> {
  const response = await fetch(`${stack.gatewayUrl}${request.target}`, {
    method: request.method,
    headers: request.headers,
    ...(request.body !== undefined ? { body: request.body } : {}),
    redirect: 'manual',
    signal: AbortSignal.timeout(30_000),
  });
  return { status: response.status, contentType: response.headers.get('content-type') ?? '', text: await response.text() };
}

/** What is wrong with an answer, or undefined. */
function judge(answer: Answer): string | undefined {
  if (answer.status < 200 || answer.status >= 500) return `status ${answer.status}`;
  if (answer.status < 400) return undefined;
  if (!answer.contentType.startsWith('application/json')) return `${answer.status} with content-type "${answer.contentType}"`;
  try {
    const body = JSON.parse(answer.text) as { error?: { code?: unknown; message?: unknown } };
    if (typeof body.error?.code !== 'string' || typeof body.error.message !== 'string') return `${answer.status} without { error: { code, message } }`;
  } catch {
    return `${answer.status} with a body that is not JSON`;
  }
  return undefined;
}

function errorCode(answer: Answer): string | undefined {
  try {
    return (JSON.parse(answer.text) as { error?: { code?: string } }).error?.code;
  } catch {
    return undefined;
  }
}

const describeRequest = (request: FuzzRequest) =>
  JSON.stringify({
    ...request,
    target: clip(request.target),
    ...(request.body !== undefined ? { body: clip(request.body) } : {}),
    headers: Object.fromEntries(Object.entries(request.headers).map(([k, v]) => [k, clip(v)])),
  });
const clip = (value: string) => (value.length > 300 ? `${value.slice(0, 300)}... (${value.length} chars)` : value);

/**
 * What the system has stored: per collection of every service database, a hash of its documents (sorted by _id), and
 * every JetStream stream's last sequence. Left out, because they change without any request:
 * - KV buckets (`KV_*` streams): partition leases and their renewals;
 * - `fences` collections: partition fencing tokens, bumped when an instance (re)gains a partition.
 * Nothing else changes on an idle stack: an extra exclusion would need its own reason here.
 */
async function fingerprint(): Promise<Record<string, string>> {
  const print: Record<string, string> = {};
  const { databases } = await mongo.db('admin').admin().listDatabases({ nameOnly: true });
  const collections = await Promise.all(
    databases
      .filter((d) => d.name.startsWith('tracemart_'))
      .map(async ({ name }) => (await mongo.db(name).listCollections({}, { nameOnly: true }).toArray()).map((c) => ({ db: name, collection: c.name }))),
  );
  await Promise.all(
    collections
      .flat()
      .filter(({ collection }) => collection !== 'fences')
      .map(async ({ db, collection }) => {
        const docs = await mongo.db(db).collection(collection).find({}).sort({ _id: 1 }).toArray();
        print[`${db}.${collection}`] = `${docs.length}:${createHash('sha256').update(JSON.stringify(docs)).digest('hex').slice(0, 16)}`;
      }),
  );
  const jsz = (await (await fetch(`${stack.natsNodes[0]?.monitorUrl}/jsz?accounts=true&streams=true`)).json()) as {
    account_details?: { stream_detail?: { name: string; state: { last_seq: number } }[] }[];
  };
  for (const stream of (jsz.account_details ?? []).flatMap((account) => account.stream_detail ?? [])) {
    if (!stream.name.startsWith('KV_')) print[`stream ${stream.name}`] = String(stream.state.last_seq);
  }
  return print;
}

/** A fingerprint once nothing has changed for a while: after an accepted write, its saga and projections run on. */
async function settledFingerprint(): Promise<Record<string, string>> {
  let last = await fingerprint();
  const deadline = Date.now() + 20_000;
  for (let stable = 0; stable < 2;) {
    await sleep(500);
    const now = await fingerprint();
    const differences = changed(last, now);
    if (differences.length > 0 && Date.now() > deadline) throw new Error(`the system kept writing for 20 s without requests: ${differences.join('; ')}`);
    stable = differences.length === 0 ? stable + 1 : 0;
    last = now;
  }
  return last;
}

const changed = (before: Record<string, string>, after: Record<string, string>) =>
  [...new Set([...Object.keys(before), ...Object.keys(after)])].filter((key) => before[key] !== after[key]).map((key) => `${key}: ${before[key]} -> ${after[key]}`);

describe('the public and admin API under random requests', () => {
  it('when thousands of random requests arrive, then every answer is 2xx or a JSON 4xx, refused requests write nothing, and every process stays up', async () => {
    const pids = new Map([...stack.processes].map(([name, proc]) => [name, proc.child.pid]));
    const runs = Math.ceil(FUZZ_REQUESTS / BATCH);
    const stats = {
      requests: 0,
      byStatus: new Map<number, number>(),
      batchesChecked: 0,
      batchesWithWrites: 0,
      routes: new Set<string>(),
      sendingMs: 0,
      settlingMs: 0,
      codes: new Map<string, number>(),
    };
    say(`seed ${SEED}: ${runs} batches of ${BATCH} requests`);
    let baseline = await settledFingerprint();
    const started = Date.now();
    const progress = () =>
      `${stats.requests} requests in ${((Date.now() - started) / 1000).toFixed(1)} s (sending ${(stats.sendingMs / 1000).toFixed(1)} s, settling after accepted writes ${(stats.settlingMs / 1000).toFixed(1)} s)`;

    await fc.assert(
      fc.asyncProperty(fc.array(fuzzRequest(), { minLength: BATCH, maxLength: BATCH }), async (batch) => {
        const sendingSince = Date.now();
        const answers = await Promise.all(
          batch.map(async (request) => {
            try {
              return await send(request);
            } catch (err) {
              return { status: 0, contentType: '', text: `client error: ${String(err)}` };
            }
          }),
        );
        stats.sendingMs += Date.now() - sendingSince;
        const problems: string[] = [];
        answers.forEach((answer, i) => {
          const request = batch[i] as FuzzRequest;
          stats.requests++;
          stats.routes.add(request.route);
          stats.byStatus.set(answer.status, (stats.byStatus.get(answer.status) ?? 0) + 1);
          const code = answer.status >= 400 ? errorCode(answer) : undefined;
          if (code) stats.codes.set(code, (stats.codes.get(code) ?? 0) + 1);
          const problem = judge(answer);
          if (problem) problems.push(`${problem}: ${describeRequest(request)} -> ${clip(answer.text)}`);
        });
        expect(problems, problems.join('\n')).toEqual([]);

        const wrote = batch.some((request, i) => request.write && (answers[i]?.status ?? 0) < 300);
        if (wrote) {
          stats.batchesWithWrites++;
          const settlingSince = Date.now();
          baseline = await settledFingerprint();
          stats.settlingMs += Date.now() - settlingSince;
          return;
        }
        const after = await fingerprint();
        const differences = changed(baseline, after);
        stats.batchesChecked++;
        if (stats.batchesChecked % 20 === 0) say(progress());
        baseline = after;
        expect(differences, `refused requests wrote:\n${differences.join('\n')}\nbatch:\n${batch.map(describeRequest).join('\n')}`).toEqual([]);
      }),
      { numRuns: runs, seed: SEED, endOnFailure: true },
    );

    say(
      `${progress()} over ${stats.routes.size} routes; statuses ${JSON.stringify(Object.fromEntries([...stats.byStatus].sort(([a], [b]) => a - b)))}; ` +
        `${stats.batchesChecked} batches checked for writes, ${stats.batchesWithWrites} with an accepted write (not checked); ` +
        `error codes ${JSON.stringify(Object.fromEntries([...stats.codes].sort(([, a], [, b]) => b - a)))}`,
    );
    expect(stats.routes.size).toBe(API_ROUTES.length + ADMIN_ROUTES.length);
    // The write check is the point: most batches must have been all refusals.
    expect(stats.batchesChecked).toBeGreaterThanOrEqual(runs * 0.6);

    for (const [name, instances] of Object.entries(stack.instances)) {
      for (const instance of instances) expect((await fetch(`${instance.url}/readyz`)).status, `${name} /readyz`).toBe(200);
    }
    expect(new Map([...stack.processes].map(([name, proc]) => [name, proc.child.pid]))).toEqual(pids);
  }, 300_000);
});
