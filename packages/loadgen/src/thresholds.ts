import { parseSelector, type MetricStore } from './metrics';

/**
 * k6 threshold expressions (`p(95)<500`, `rate<=0.01`, `count>=1`, `max<=1.2`) evaluated on a
 * MetricStore, so one table in load-tests/scenarios.json judges both a k6 run and a harness run.
 *
 * One difference, on purpose: k6 judges a trend or rate that got no sample as 0 (so `p(95)<500` on a
 * sub-metric that never saw a request passes); here "no samples" fails, since a threshold on traffic
 * that never happened proves nothing. A counter with no sample is 0 in both.
 */

export interface ThresholdResult {
  /** The metric selector, e.g. `http_req_duration{phase:outage,kind:catalog}`. */
  metric: string;
  /** The expression as written, e.g. `p(95)<500`. */
  expression: string;
  ok: boolean;
  /** The aggregate the expression compared, or undefined when the metric had no sample. */
  actual: number | undefined;
  /** A short reading: `p(95)=12.3ms`, `rate=100.00% (250/250)`, `no samples`. */
  observed: string;
}

const EXPRESSION = /^\s*(p\(\d+(?:\.\d+)?\)|avg|min|max|med|rate|count|value)\s*(<=|>=|===|==|!=|<|>)\s*(-?\d+(?:\.\d+)?)\s*$/;

export interface ParsedExpression {
  aggregate: string;
  operator: '<' | '<=' | '>' | '>=' | '==' | '!=';
  bound: number;
}

export function parseExpression(expression: string): ParsedExpression {
  const match = EXPRESSION.exec(expression);
  if (!match?.[1] || !match[2] || match[3] === undefined) throw new Error(`not a threshold expression: "${expression}"`);
  const operator = (match[2] === '===' ? '==' : match[2]) as ParsedExpression['operator'];
  return { aggregate: match[1], operator, bound: Number(match[3]) };
}

function compare(actual: number, operator: ParsedExpression['operator'], bound: number): boolean {
  switch (operator) {
    case '<':
      return actual < bound;
    case '<=':
      return actual <= bound;
    case '>':
      return actual > bound;
    case '>=':
      return actual >= bound;
    case '==':
      return actual === bound;
    case '!=':
      return actual !== bound;
  }
}

const fmt = (n: number) => (Number.isInteger(n) ? String(n) : n.toFixed(3));

/** The value of `aggregate` for the selected metric, and how to print it. */
function aggregateOf(metrics: MetricStore, metric: string, aggregate: string): { actual: number | undefined; observed: string } {
  const { name } = parseSelector(metric);
  const type = metrics.typeOf(name);
  if (type === undefined) return { actual: aggregate === 'count' ? 0 : undefined, observed: aggregate === 'count' ? 'count=0' : 'no samples' };
  if (type === 'counter') {
    if (aggregate !== 'count') throw new Error(`${metric}: a counter has count, not ${aggregate}`);
    const count = metrics.count(metric);
    return { actual: count, observed: `count=${count}` };
  }
  if (type === 'rate') {
    if (aggregate !== 'rate') throw new Error(`${metric}: a rate has rate, not ${aggregate}`);
    const stats = metrics.rateStats(metric);
    if (!stats) return { actual: undefined, observed: 'no samples' };
    return { actual: stats.rate, observed: `rate=${(stats.rate * 100).toFixed(2)}% (${stats.passes}/${stats.passes + stats.fails})` };
  }
  if (type === 'gauge') {
    const value = metrics.gaugeValue(metric);
    return { actual: value, observed: value === undefined ? 'no samples' : `value=${fmt(value)}` };
  }
  const stats = metrics.trendStats(metric);
  if (!stats) return { actual: undefined, observed: 'no samples' };
  const key = aggregate === 'count' ? 'count' : (aggregate as keyof typeof stats);
  if (!(key in stats)) throw new Error(`${metric}: a trend has no ${aggregate} here (use avg, min, med, max, p(90), p(95), p(99), count)`);
  const actual = stats[key];
  const unit = name.endsWith('_duration') || name.endsWith('_ms') || name.includes('time_to') ? 'ms' : '';
  return { actual, observed: `${aggregate}=${unit === 'ms' && !Number.isInteger(actual) ? actual.toFixed(2) : fmt(actual)}${unit} (n=${stats.count})` };
}

/** Judges every expression of `table` (`{ selector: [expression, …] }`). */
export function evaluateThresholds(metrics: MetricStore, table: Record<string, string[]>): ThresholdResult[] {
  const results: ThresholdResult[] = [];
  for (const [metric, expressions] of Object.entries(table)) {
    for (const expression of expressions) {
      const parsed = parseExpression(expression);
      const { actual, observed } = aggregateOf(metrics, metric, parsed.aggregate);
      results.push({ metric, expression, ok: actual !== undefined && compare(actual, parsed.operator, parsed.bound), actual, observed });
    }
  }
  return results;
}

/** Replaces `${name}` in every expression with `values[name]`; an unknown name is an error. */
export function resolveThresholds(table: Record<string, string[]>, values: Record<string, number>): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [metric, expressions] of Object.entries(table)) {
    out[metric] = expressions.map((expression) =>
      expression.replace(/\$\{(\w+)\}/g, (_, name: string) => {
        const value = values[name];
        if (value === undefined) throw new Error(`scenarios.json: threshold "${metric}: ${expression}" names unknown setting "${name}"`);
        return String(value);
      }),
    );
  }
  return out;
}
