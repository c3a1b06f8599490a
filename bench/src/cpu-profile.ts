/**
 * Reads a V8 CPU profile (what `GET /admin/profile/cpu` answers) into where the time went: each sample is
 * charged to the nearest frame on its stack that belongs to a file of the project or of a package
 * (so `JSON.stringify` called by pino counts as logging, a socket write by undici as undici), then
 * grouped into categories an operator recognises.
 */

export interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  /** Wall time covered by the samples, ms. */
  wallMs: number;
  /** Sampled time not idle (CPU on the main thread, GC included), ms. */
  busyMs: number;
  /** Busy time by category, largest first; `pct` is of busyMs. */
  categories: { name: string; ms: number; pct: number }[];
  /** Functions with the most self time (leaf frames), largest first. */
  topFunctions: { name: string; where: string; ms: number; pct: number }[];
}

const PACKAGE_CATEGORIES: [RegExp, string][] = [
  [/^@opentelemetry\//, 'OpenTelemetry (SDK, instrumentation, exporter)'],
  [/^(pino|pino-std-serializers|sonic-boom|fast-redact|thread-stream|quick-format-unescaped|safe-stable-stringify)$/, 'pino (logging)'],
  [
    /^(express|router|body-parser|raw-body|qs|send|finalhandler|on-finished|accepts|type-is|content-type|negotiator|path-to-regexp|serve-static|cookie|vary|etag|fresh|depd|statuses|http-errors|iconv-lite|media-typer|mime-types|parseurl|proxy-addr|range-parser|content-disposition|merge-descriptors|encodeurl|escape-html|forwarded)$/,
    'Express',
  ],
  [/^undici$/, 'undici (HTTP client)'],
  [/^opossum$/, 'opossum (circuit breaker)'],
  [/^(jose|jsonwebtoken)$/, 'JWT'],
  [/^zod$/, 'zod (validation)'],
  [/^(mongodb|bson|@mongodb-js\/.*)$/, 'MongoDB driver'],
  [/^(@nats-io\/.*|nats)$/, 'NATS client'],
  [/^(tsx|esbuild|get-tsconfig|source-map-support)$/, 'tsx (TypeScript loader)'],
];

/** The package a node_modules path belongs to (`@scope/name` or `name`), or undefined. */
export function packageOf(url: string): string | undefined {
  const at = url.lastIndexOf('/node_modules/');
  if (at < 0) return undefined;
  const rest = url.slice(at + '/node_modules/'.length).split('/');
  const [first, second] = rest;
  if (!first) return undefined;
  return first.startsWith('@') && second ? `${first}/${second}` : first;
}

/** The category of a frame's file, or undefined for frames without a file of their own (V8, node: core). */
export function categoryOfUrl(url: string): string | undefined {
  if (!url || url.startsWith('node:')) return undefined;
  const pkg = packageOf(url);
  if (pkg) return PACKAGE_CATEGORIES.find(([pattern]) => pattern.test(pkg))?.[1] ?? `other package: ${pkg}`;
  const own = /\/(gateway|packages\/[a-z-]+|services\/[a-z-]+)\/src\//.exec(url);
  if (own) return `tracemart code: ${own[1]}`;
  return 'other';
}

const SPECIAL: Record<string, string> = {
  '(idle)': 'idle',
  '(garbage collector)': 'garbage collection',
  '(program)': 'V8 / native (program)',
  '(root)': 'V8 / native (program)',
};

export function summarizeCpuProfile(profile: CpuProfile, top = 12): ProfileSummary {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);

  const categoryCache = new Map<number, string>();
  const categoryOf = (id: number): string => {
    const cached = categoryCache.get(id);
    if (cached) return cached;
    const leaf = byId.get(id);
    let category = leaf ? SPECIAL[leaf.callFrame.functionName] : undefined;
    for (let at: number | undefined = id; !category && at !== undefined; at = parent.get(at)) {
      category = categoryOfUrl(byId.get(at)?.callFrame.url ?? '');
    }
    category ??= 'Node core (net, streams, timers)';
    categoryCache.set(id, category);
    return category;
  };

  const categories = new Map<string, number>();
  const functions = new Map<string, { name: string; where: string; ms: number }>();
  let wallUs = 0;
  // timeDeltas[i] is the time since the previous sample; sample i lasted until sample i + 1.
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i] as number;
    const us = profile.timeDeltas[i + 1] ?? 0;
    wallUs += us;
    const category = categoryOf(id);
    categories.set(category, (categories.get(category) ?? 0) + us);
    if (category === 'idle') continue;
    const frame = byId.get(id)?.callFrame;
    const name = frame?.functionName || '(anonymous)';
    const where = frame?.url ? `${frame.url.replace(/^.*\/(node_modules|work\/[^/]+)\//, '')}:${frame.lineNumber + 1}` : '';
    const key = `${name} ${where}`;
    const entry = functions.get(key) ?? { name, where, ms: 0 };
    entry.ms += us / 1000;
    functions.set(key, entry);
  }
  const idleMs = (categories.get('idle') ?? 0) / 1000;
  const busyMs = wallUs / 1000 - idleMs;
  const pct = (ms: number) => (busyMs > 0 ? (ms / busyMs) * 100 : 0);
  return {
    wallMs: wallUs / 1000,
    busyMs,
    categories: [...categories]
      .filter(([name]) => name !== 'idle')
      .map(([name, us]) => ({ name, ms: us / 1000, pct: pct(us / 1000) }))
      .sort((a, b) => b.ms - a.ms),
    topFunctions: [...functions.values()]
      .sort((a, b) => b.ms - a.ms)
      .slice(0, top)
      .map((f) => ({ ...f, pct: pct(f.ms) })),
  };
}
