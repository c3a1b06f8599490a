// Configuration for every suite, read once from k6's __ENV. A bad value fails at init with the
// variable's name, before any traffic is sent.

const LOOPBACK_HOST = /^(localhost|127(\.\d{1,3}){3}|\[::1\])$/;
const IN_CLUSTER_GATEWAY = 'gateway';

function env(name, fallback) {
  const value = __ENV[name];
  return value === undefined || value === '' ? fallback : value;
}

function parseBaseUrl(raw) {
  const match = /^(https?):\/\/([^/:]+|\[[^\]]+\])(:\d+)?\/?$/.exec(raw);
  if (!match) {
    throw new Error(`BASE_URL must look like http://127.0.0.1:8080 (no path), got "${raw}"`);
  }
  // Load traffic may only hit this machine, or tracemart's own gateway Service from inside a Kubernetes pod
  // (the k6 Job of deploy/k8s/load; the kubelet sets KUBERNETES_SERVICE_HOST there): never another address.
  const inCluster = match[2] === IN_CLUSTER_GATEWAY && env('KUBERNETES_SERVICE_HOST', '') !== '';
  if (!LOOPBACK_HOST.test(match[2]) && !inCluster) {
    throw new Error(`BASE_URL must point at a loopback address (127.0.0.0/8, localhost, [::1]) or, from a pod in the cluster, at http://${IN_CLUSTER_GATEWAY}:8080; got "${raw}"`);
  }
  return raw.replace(/\/$/, '');
}

export const BASE_URL = parseBaseUrl(env('BASE_URL', 'http://127.0.0.1:8080'));
// run.sh sets it from the running local stack (.data/admin-token) when it is not given.
export const ADMIN_TOKEN = env('ADMIN_TOKEN', '');
export const REPORT_DIR = env('REPORT_DIR', 'reports').replace(/\/$/, '');
// run.sh passes one stamp so the HTML export and the summary files share a name.
export const REPORT_STAMP = env('REPORT_STAMP', '');

export function envString(name, fallback) {
  return env(name, fallback);
}

export function envNumber(name, fallback, { min = 0, max = Number.MAX_SAFE_INTEGER } = {}) {
  const raw = env(name, undefined);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min || value > max) {
    throw new Error(`${name} must be a number in [${min}, ${max}], got "${raw}"`);
  }
  return value;
}

export function envInt(name, fallback, bounds) {
  const value = envNumber(name, fallback, bounds);
  if (!Number.isInteger(value)) throw new Error(`${name} must be an integer, got "${value}"`);
  return value;
}

const UNIT_SECONDS = { ms: 0.001, s: 1, m: 60, h: 3600 };

/** Parses "90s", "5m", "1h30m", "250ms" into seconds. */
export function toSeconds(text, name = 'duration') {
  const parts = String(text).match(/(\d+(?:\.\d+)?)(ms|s|m|h)/g);
  if (!parts || parts.join('') !== String(text)) {
    throw new Error(`${name} must be a k6 duration such as 30s, 5m or 1h30m, got "${text}"`);
  }
  return parts.reduce((sum, part) => {
    const [, amount, unit] = /(\d+(?:\.\d+)?)(ms|s|m|h)/.exec(part);
    return sum + Number(amount) * UNIT_SECONDS[unit];
  }, 0);
}

/** A duration env var, returned in seconds; `fallback` is a k6 duration string. */
export function envSeconds(name, fallback) {
  return toSeconds(env(name, fallback), name);
}

export function duration(seconds) {
  return `${Math.round(seconds * 1000)}ms`;
}

/**
 * A setting from scenarios.json, `{ env, default, min?, max?, integer? }`: the value of the
 * environment variable `env` when set (checked against the bounds), else `default`.
 */
export function setting(spec) {
  const bounds = {
    min: typeof spec.min === 'number' ? spec.min : 0,
    max: typeof spec.max === 'number' ? spec.max : Number.MAX_SAFE_INTEGER,
  };
  return spec.integer ? envInt(spec.env, spec.default, bounds) : envNumber(spec.env, spec.default, bounds);
}

/**
 * Every setting of a scenarios.json `settings` object, resolved: `{ name: value }`.
 * @returns {{ [name: string]: number }}
 */
export function settings(specs) {
  /** @type {{ [name: string]: number }} */
  const values = {};
  for (const name of Object.keys(specs)) values[name] = setting(specs[name]);
  return values;
}

/**
 * A k6 `thresholds` object from a scenarios.json threshold table, with every `${name}` replaced by
 * `values[name]`; an unknown name fails at init.
 * @param {{ [metric: string]: string[] }} table
 * @param {{ [name: string]: number }} values
 */
export function thresholdsFrom(table, values) {
  const out = {};
  for (const metric of Object.keys(table)) {
    out[metric] = table[metric].map((expr) =>
      expr.replace(/\$\{(\w+)\}/g, (_, name) => {
        if (!(name in values)) throw new Error(`scenarios.json: threshold "${metric}: ${expr}" names unknown setting "${name}"`);
        return String(values[name]);
      }),
    );
  }
  return out;
}

/** Trend stats kept in summaries; p(99) is needed by the degradation thresholds' report. */
export const SUMMARY_TREND_STATS = ['avg', 'min', 'med', 'max', 'p(90)', 'p(95)', 'p(99)', 'count'];
