// Shared by the benchmark's k6 scripts: loopback-only URLs, the fixture file the harness writes
// (users with tokens, products weighted by stock) and the summary file the harness reads.

const LOOPBACK = /^http:\/\/(localhost|127(\.\d{1,3}){3}|\[::1\]):\d+$/;

/** A base URL from the environment; anything but a loopback address fails at init. */
export function loopbackUrl(name) {
  const raw = __ENV[name];
  if (!raw || !LOOPBACK.test(raw)) throw new Error(`${name} must be http://127.0.0.1:<port>, got "${raw}"`);
  return raw;
}

export function envNumber(name, fallback) {
  const raw = __ENV[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0) throw new Error(`${name} must be a non-negative number, got "${raw}"`);
  return value;
}

/**
 * The harness's fixture: `{ users: [{ id, token }], products: [{ id, weight }] }`; weights are the
 * units in stock, so orders spread in proportion to what each product can still sell.
 */
export function loadFixture() {
  const path = __ENV.FIXTURE;
  if (!path) throw new Error('FIXTURE must name the JSON file the harness wrote');
  const fixture = JSON.parse(open(path));
  let total = 0;
  const cumulative = fixture.products.map((p) => {
    total += p.weight;
    return { id: p.id, upTo: total };
  });
  return { users: fixture.users, cumulative, total };
}

/** A product id drawn in proportion to its stock. */
export function pickProduct(fixture) {
  const roll = Math.random() * fixture.total;
  for (const entry of fixture.cumulative) if (roll < entry.upTo) return entry.id;
  return fixture.cumulative[fixture.cumulative.length - 1].id;
}

export function uuid() {
  return crypto.randomUUID();
}

/** handleSummary writing k6's summary object to SUMMARY_FILE for the harness. */
export function writeSummary(data) {
  const out = { stdout: '' };
  if (__ENV.SUMMARY_FILE) out[__ENV.SUMMARY_FILE] = JSON.stringify(data);
  return out;
}

export const TREND_STATS = ['avg', 'min', 'med', 'p(90)', 'p(95)', 'p(99)', 'max', 'count'];
