/** Small readers for what the tests ask Prometheus and the processes' /metrics endpoints. */

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Parses the Prometheus text exposition format (enough of it: no timestamps, no exemplars). */
export function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!match) continue;
    const labels: Record<string, string> = {};
    for (const pair of (match[2] ?? '').matchAll(/([a-zA-Z_]\w*)="((?:[^"\\]|\\.)*)"/g)) labels[pair[1] as string] = (pair[2] as string).replace(/\\(.)/g, '$1');
    samples.push({ name: match[1] as string, labels, value: Number(match[3]) });
  }
  return samples;
}

/** The sum of every sample named `name` whose labels include `where`. */
export function total(samples: readonly Sample[], name: string, where: Record<string, string> = {}): number {
  return samples.filter((s) => s.name === name && Object.entries(where).every(([k, v]) => s.labels[k] === v)).reduce((sum, s) => sum + s.value, 0);
}

export interface VectorResult {
  metric: Record<string, string>;
  value: [number, string];
}

export async function instantQuery(prometheusUrl: string, query: string): Promise<VectorResult[]> {
  const response = await fetch(`${prometheusUrl}/api/v1/query`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ query }).toString(),
    signal: AbortSignal.timeout(10_000),
  });
  const body = (await response.json()) as { status: string; error?: string; data?: { resultType: string; result: VectorResult[] | [number, string] } };
  if (body.status !== 'success') throw new Error(`query failed (${response.status}): ${body.error ?? ''}\n${query}`);
  const data = body.data;
  if (!data) return [];
  // A scalar (e.g. `vector(0)` folded by a comparison) is one value without labels.
  if (data.resultType === 'scalar') return [{ metric: {}, value: data.result as [number, string] }];
  return data.result as VectorResult[];
}

/**
 * An alert expression without its thresholds: every comparison whose right-hand side is a constant
 * (a number, or parenthesised arithmetic on numbers such as `(14.4 * (1 - 0.995))`) is removed, so what
 * is left is the SLI series the alert compares. `a > (x) and b > (x)` becomes `a and b`.
 */
export function stripThresholds(expr: string): string {
  const constant = /^[\d.\s+\-*/()]+$/;
  let out = '';
  let i = 0;
  while (i < expr.length) {
    const op = /^\s*(>=|<=|==|!=|>|<)\s*/.exec(expr.slice(i));
    if (op && !expr.slice(i).startsWith('=~') && !/[=!]$/.test(out)) {
      const rhsStart = i + op[0].length;
      let end = rhsStart;
      if (expr[rhsStart] === '(') {
        let depth = 0;
        for (; end < expr.length; end++) {
          if (expr[end] === '(') depth++;
          if (expr[end] === ')' && --depth === 0) {
            end++;
            break;
          }
        }
      } else {
        end = rhsStart + (/^[\d.]+/.exec(expr.slice(rhsStart))?.[0].length ?? 0);
      }
      const rhs = expr.slice(rhsStart, end);
      if (rhs.length > 0 && constant.test(rhs)) {
        out += ' ';
        i = end;
        continue;
      }
    }
    out += expr[i];
    i++;
  }
  return out.replace(/\s+/g, ' ').trim();
}
