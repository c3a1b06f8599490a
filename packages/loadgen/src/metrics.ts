import { build, type Histogram } from 'hdr-histogram-js';

/**
 * k6-shaped metrics for the Node harness, so the thresholds in load-tests/scenarios.json mean the same
 * here as in k6: a metric has a name and a type (trend, rate, counter, gauge), each sample carries tags,
 * and a selector `name{tag:value,...}` aggregates every series whose tags include the selector's.
 *
 * Trends are HDR histograms (hdr-histogram-js, 3 significant digits) per tag set, merged on query:
 * constant memory however long the run, and percentiles autocannon does not report (p95). Values are
 * recorded in units of 1/SCALE (microseconds for milliseconds) so sub-millisecond latencies keep
 * their precision; min, max, sum and count are kept exactly beside the histogram.
 */

export type Tags = Record<string, string>;
export type MetricType = 'trend' | 'rate' | 'counter' | 'gauge';

/** Trend statistics, named as in a k6 summary (`med`, `p(95)`, …), all in the metric's unit. */
export interface TrendStats {
  count: number;
  avg: number;
  min: number;
  med: number;
  'p(90)': number;
  'p(95)': number;
  'p(99)': number;
  max: number;
}

export interface RateStats {
  rate: number;
  passes: number;
  fails: number;
}

/** Histogram units per metric unit: trends hold ms (or ratios) as integers of 1/1000. */
const SCALE = 1000;
const newHistogram = (): Histogram => build({ lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000 * SCALE, numberOfSignificantValueDigits: 3 });

interface TrendSeries {
  type: 'trend';
  tags: Tags;
  histogram: Histogram;
  count: number;
  sum: number;
  min: number;
  max: number;
}
interface RateSeries {
  type: 'rate';
  tags: Tags;
  passes: number;
  fails: number;
}
interface CounterSeries {
  type: 'counter';
  tags: Tags;
  count: number;
}
interface GaugeSeries {
  type: 'gauge';
  tags: Tags;
  value: number;
  at: number;
}
type Series = TrendSeries | RateSeries | CounterSeries | GaugeSeries;

export interface Selector {
  name: string;
  tags: Tags;
}

/** Parses `name{tag:value,tag:value}`; a value may itself contain ':' (`GET /api/products/:id`). */
export function parseSelector(selector: string): Selector {
  const match = /^([A-Za-z_][\w.]*)(?:\{(.*)\})?$/.exec(selector.trim());
  if (!match?.[1]) throw new Error(`not a metric selector: "${selector}"`);
  const tags: Tags = {};
  for (const part of (match[2] ?? '').split(',').filter((p) => p.trim() !== '')) {
    const colon = part.indexOf(':');
    if (colon <= 0) throw new Error(`selector "${selector}": "${part}" is not tag:value`);
    tags[part.slice(0, colon).trim()] = part.slice(colon + 1).trim();
  }
  return { name: match[1], tags };
}

const tagKey = (tags: Tags) =>
  Object.keys(tags)
    .sort()
    .map((k) => `${k}=${tags[k]}`)
    .join('\u0000');

const includes = (tags: Tags, wanted: Tags) => Object.entries(wanted).every(([k, v]) => tags[k] === v);

export class MetricStore {
  private readonly types = new Map<string, MetricType>();
  private readonly series = new Map<string, Map<string, Series>>();

  private seriesFor<T extends Series>(name: string, type: T['type'], tags: Tags, create: () => T): T {
    const known = this.types.get(name);
    if (known && known !== type) throw new Error(`metric ${name} is a ${known}, not a ${type}`);
    this.types.set(name, type);
    let byTags = this.series.get(name);
    if (!byTags) this.series.set(name, (byTags = new Map()));
    const key = tagKey(tags);
    let entry = byTags.get(key);
    if (!entry) byTags.set(key, (entry = create()));
    return entry as T;
  }

  /** Adds one value (ms for durations) to a trend. */
  trend(name: string, value: number, tags: Tags = {}): void {
    if (!Number.isFinite(value)) return;
    const s = this.seriesFor<TrendSeries>(name, 'trend', tags, () => ({
      type: 'trend',
      tags: { ...tags },
      histogram: newHistogram(),
      count: 0,
      sum: 0,
      min: Infinity,
      max: -Infinity,
    }));
    s.histogram.recordValue(Math.max(0, Math.round(value * SCALE)));
    s.count += 1;
    s.sum += value;
    s.min = Math.min(s.min, value);
    s.max = Math.max(s.max, value);
  }

  rate(name: string, pass: boolean, tags: Tags = {}): void {
    const s = this.seriesFor<RateSeries>(name, 'rate', tags, () => ({ type: 'rate', tags: { ...tags }, passes: 0, fails: 0 }));
    if (pass) s.passes += 1;
    else s.fails += 1;
  }

  counter(name: string, add = 1, tags: Tags = {}): void {
    const s = this.seriesFor<CounterSeries>(name, 'counter', tags, () => ({ type: 'counter', tags: { ...tags }, count: 0 }));
    s.count += add;
  }

  gauge(name: string, value: number, tags: Tags = {}): void {
    const s = this.seriesFor<GaugeSeries>(name, 'gauge', tags, () => ({ type: 'gauge', tags: { ...tags }, value, at: 0 }));
    s.value = value;
    s.at = performance.now();
  }

  typeOf(name: string): MetricType | undefined {
    return this.types.get(name);
  }

  private matching<T extends Series>(selector: string | Selector, type: T['type']): T[] {
    const sel = typeof selector === 'string' ? parseSelector(selector) : selector;
    const known = this.types.get(sel.name);
    if (known && known !== type) throw new Error(`metric ${sel.name} is a ${known}, not a ${type}`);
    return [...(this.series.get(sel.name)?.values() ?? [])].filter((s): s is T => s.type === type && includes(s.tags, sel.tags));
  }

  /** Trend statistics over every series the selector matches; undefined when there is no sample. */
  trendStats(selector: string | Selector): TrendStats | undefined {
    const parts = this.matching<TrendSeries>(selector, 'trend').filter((s) => s.count > 0);
    if (parts.length === 0) return undefined;
    const merged = newHistogram();
    for (const p of parts) merged.add(p.histogram);
    const count = parts.reduce((n, p) => n + p.count, 0);
    const at = (pct: number) => merged.getValueAtPercentile(pct) / SCALE;
    const min = Math.min(...parts.map((p) => p.min));
    const max = Math.max(...parts.map((p) => p.max));
    const stats: TrendStats = {
      count,
      avg: parts.reduce((n, p) => n + p.sum, 0) / count,
      min,
      // The histogram's bucket edges can stray past the exact extremes by its 0.1% resolution.
      med: Math.min(max, Math.max(min, at(50))),
      'p(90)': Math.min(max, Math.max(min, at(90))),
      'p(95)': Math.min(max, Math.max(min, at(95))),
      'p(99)': Math.min(max, Math.max(min, at(99))),
      max,
    };
    merged.destroy();
    return stats;
  }

  /** Rate over every matching series; undefined when there is no sample. */
  rateStats(selector: string | Selector): RateStats | undefined {
    const parts = this.matching<RateSeries>(selector, 'rate');
    const passes = parts.reduce((n, p) => n + p.passes, 0);
    const fails = parts.reduce((n, p) => n + p.fails, 0);
    if (passes + fails === 0) return undefined;
    return { rate: passes / (passes + fails), passes, fails };
  }

  /** Sum over every matching series (0 when none). */
  count(selector: string | Selector): number {
    return this.matching<CounterSeries>(selector, 'counter').reduce((n, p) => n + p.count, 0);
  }

  /** The most recently set value among the matching series. */
  gaugeValue(selector: string | Selector): number | undefined {
    const parts = this.matching<GaugeSeries>(selector, 'gauge').sort((x, y) => y.at - x.at);
    return parts[0]?.value;
  }

  /** Every metric name with its type, sorted. */
  names(): { name: string; type: MetricType }[] {
    return [...this.types.entries()].map(([name, type]) => ({ name, type })).sort((x, y) => x.name.localeCompare(y.name));
  }

  /** Values of tag `tag` seen on metric `name`, sorted. */
  tagValues(name: string, tag: string): string[] {
    const values = new Set<string>();
    for (const s of this.series.get(name)?.values() ?? []) if (s.tags[tag] !== undefined) values.add(s.tags[tag]);
    return [...values].sort();
  }

  /** Frees the histograms (they are plain JS arrays, so this only drops references). */
  clear(): void {
    for (const byTags of this.series.values()) for (const s of byTags.values()) if (s.type === 'trend') s.histogram.destroy();
    this.series.clear();
    this.types.clear();
  }
}
