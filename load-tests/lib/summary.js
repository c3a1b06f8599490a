// End-of-test output for every suite: k6's summary object as JSON plus a plain-text digest, both
// at <REPORT_DIR>/<suite>-<stamp>.{json,txt}, and the digest on stdout. k6 does not create
// folders for handleSummary, so run.sh makes REPORT_DIR first.
import { REPORT_DIR, REPORT_STAMP } from './config.js';

function stamp() {
  if (REPORT_STAMP) return REPORT_STAMP;
  return new Date()
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
}

function formatValue(metric, key, value) {
  if (typeof value !== 'number') return String(value);
  if (metric.type === 'rate' && key === 'rate') return `${(value * 100).toFixed(2)}%`;
  if (metric.contains === 'time' && key !== 'count') return `${value.toFixed(2)}ms`;
  return Number.isInteger(value) ? String(value) : value.toFixed(3);
}

function describe(name, metric) {
  const v = metric.values || {};
  let keys;
  if (metric.type === 'trend') keys = ['avg', 'med', 'p(90)', 'p(95)', 'p(99)', 'max', 'count'];
  else if (metric.type === 'rate') keys = ['rate', 'passes', 'fails'];
  else if (metric.type === 'counter') keys = ['count', 'rate'];
  else keys = ['value', 'min', 'max'];
  const parts = keys.filter((k) => k in v).map((k) => `${k}=${formatValue(metric, k, v[k])}`);
  return `  ${name} ${parts.join(' ')}`;
}

const SHOWN = /^(http_req_duration|http_req_failed|http_reqs|checks|iterations|dropped_iterations|vus_max|tracemart_)/;

/** The plain-text digest: thresholds first, then the metrics a person reads. */
export function textSummary(suite, data, extraLines = []) {
  const metrics = data.metrics || {};
  const lines = [`tracemart k6 suite "${suite}"`];
  const durationMs = data.state && data.state.testRunDurationMs;
  if (durationMs) lines.push(`duration: ${(durationMs / 1000).toFixed(1)}s`);

  const thresholdLines = [];
  let failed = 0;
  for (const name of Object.keys(metrics).sort()) {
    const thresholds = metrics[name].thresholds || {};
    for (const expr of Object.keys(thresholds)) {
      const ok = thresholds[expr].ok;
      if (!ok) failed += 1;
      thresholdLines.push(`  ${ok ? 'PASS' : 'FAIL'} ${name}: ${expr}`);
    }
  }
  lines.push('', `thresholds (${failed} failed of ${thresholdLines.length}):`, ...thresholdLines);
  if (extraLines.length > 0) lines.push('', ...extraLines);
  lines.push('', 'metrics:');
  for (const name of Object.keys(metrics).sort()) {
    if (SHOWN.test(name)) lines.push(describe(name, metrics[name]));
  }
  return `${lines.join('\n')}\n`;
}

/**
 * A handleSummary for `suite`. `extra(data)` may return more text lines (e.g. phase comparisons).
 * @param {string} suite
 * @param {(data: object) => string[]} [extra]
 */
export function summaryHandler(suite, extra = () => []) {
  return function handleSummary(data) {
    const base = `${REPORT_DIR}/${suite}-${stamp()}`;
    const text = textSummary(suite, data, extra(data));
    return {
      stdout: `\n${text}\nreports: ${base}.json, ${base}.txt\n`,
      [`${base}.json`]: JSON.stringify(data, null, 2),
      [`${base}.txt`]: text,
    };
  };
}

/** A trend stat of a (sub-)metric from the summary, or undefined. */
export function stat(data, name, key) {
  const metric = data.metrics && data.metrics[name];
  return metric && metric.values ? metric.values[key] : undefined;
}
