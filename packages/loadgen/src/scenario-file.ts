import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { resolveThresholds } from './thresholds';

/**
 * load-tests/scenarios.json: the smoke and degradation scenarios, shared with the k6 scripts. This
 * module resolves it exactly as load-tests/lib/config.js does in k6 (same variables, same bounds, same
 * k6 duration syntax), from an environment passed in rather than read here.
 */

export type Env = Record<string, string | undefined>;

export interface SettingSpec {
  env: string;
  default: number;
  min?: number;
  max?: number;
  integer?: boolean;
}

export interface ScenarioFile {
  checkout: { pollTries: SettingSpec; pollIntervalS: SettingSpec; inProgressRetries: number };
  smoke: { maxDuration: string; thresholds: Record<string, string[]> };
  degradation: {
    phases: { name: string; env: string }[];
    fault: { service: string; kind: string; injectedAt: string; liftedAt: string };
    scale: { env: string; default: string };
    presets: Record<string, Record<string, string>>;
    settings: Record<string, SettingSpec>;
    ci: { env: Record<string, string> };
    thresholds: Record<string, string[]>;
  };
}

/** The repository's load-tests/scenarios.json. */
export const defaultScenarioFile = resolve(__dirname, '..', '..', '..', 'load-tests', 'scenarios.json');

export function loadScenarioFile(path = defaultScenarioFile): ScenarioFile {
  return JSON.parse(readFileSync(path, 'utf8')) as ScenarioFile;
}

const value = (env: Env, name: string): string | undefined => {
  const raw = env[name];
  return raw === undefined || raw === '' ? undefined : raw;
};

/** A numeric setting: `env[spec.env]` when set (bounds checked, as k6's envNumber/envInt), else the default. */
export function resolveSetting(spec: SettingSpec, env: Env): number {
  const raw = value(env, spec.env);
  if (raw === undefined) return spec.default;
  const min = spec.min ?? 0;
  const max = spec.max ?? Number.MAX_SAFE_INTEGER;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min || n > max) throw new Error(`${spec.env} must be a number in [${min}, ${max}], got "${raw}"`);
  if (spec.integer && !Number.isInteger(n)) throw new Error(`${spec.env} must be an integer, got "${n}"`);
  return n;
}

export function resolveSettings(specs: Record<string, SettingSpec>, env: Env): Record<string, number> {
  return Object.fromEntries(Object.entries(specs).map(([name, spec]) => [name, resolveSetting(spec, env)]));
}

const UNIT_SECONDS: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600 };

/** "90s", "5m", "1h30m", "250ms" → seconds (k6 duration syntax, as load-tests/lib/config.js parses it). */
export function toSeconds(text: string, name = 'duration'): number {
  const parts = String(text).match(/(\d+(?:\.\d+)?)(ms|s|m|h)/g);
  if (!parts || parts.join('') !== String(text)) throw new Error(`${name} must be a k6 duration such as 30s, 5m or 1h30m, got "${text}"`);
  return parts.reduce((sum, part) => {
    const [, amount, unit] = /(\d+(?:\.\d+)?)(ms|s|m|h)/.exec(part) ?? [];
    return sum + Number(amount) * (UNIT_SECONDS[unit ?? 's'] ?? 1);
  }, 0);
}

export interface PhasePlan {
  name: string;
  startS: number;
  lengthS: number;
}

export interface DegradationPlan {
  scale: string;
  phases: PhasePlan[];
  fault: ScenarioFile['degradation']['fault'] & { startS: number; endS: number };
  settings: {
    catalogRate: number;
    checkoutRate: number;
    maxP95Ratio: number;
    p95FloorMs: number;
    catalogP95Ms: number;
    fastFailMs: number;
    probeIntervalS: number;
    checkoutSettleS: number;
    userPool: number;
  };
  poll: { tries: number; intervalS: number; inProgressRetries: number };
  /** k6 expressions with every `${setting}` filled in. */
  thresholds: Record<string, string[]>;
  totalS: number;
}

const REQUIRED_SETTINGS = ['catalogRate', 'checkoutRate', 'maxP95Ratio', 'p95FloorMs', 'catalogP95Ms', 'fastFailMs', 'probeIntervalS', 'checkoutSettleS', 'userPool'] as const;

/** The degradation run as degradation.js would schedule it under `env`. */
export function degradationPlan(file: ScenarioFile, env: Env): DegradationPlan {
  const spec = file.degradation;
  const scale = value(env, spec.scale.env) ?? spec.scale.default;
  const preset = spec.presets[scale];
  if (!preset) throw new Error(`${spec.scale.env} must be one of ${Object.keys(spec.presets).join(', ')}, got "${scale}"`);
  let offset = 0;
  const phases = spec.phases.map((phase) => {
    const preset_ = preset[phase.name];
    if (preset_ === undefined) throw new Error(`scenarios.json: preset "${scale}" has no length for phase ${phase.name}`);
    const lengthS = toSeconds(value(env, phase.env) ?? preset_, phase.env);
    const plan = { name: phase.name, startS: offset, lengthS };
    offset += lengthS;
    return plan;
  });
  const startOf = (name: string) => {
    const phase = phases.find((p) => p.name === name);
    if (!phase) throw new Error(`scenarios.json: the fault names phase "${name}", which is not a phase`);
    return phase.startS;
  };
  const resolved = resolveSettings(spec.settings, env);
  for (const name of REQUIRED_SETTINGS) if (resolved[name] === undefined) throw new Error(`scenarios.json: degradation.settings has no ${name}`);
  const settings = resolved as DegradationPlan['settings'];
  const baseline = phases[0];
  if (baseline && baseline.lengthS <= settings.checkoutSettleS) {
    throw new Error(`the baseline (${baseline.lengthS}s) must be longer than ${spec.settings.checkoutSettleS?.env ?? 'the checkout settle time'} (${settings.checkoutSettleS}s)`);
  }
  return {
    scale,
    phases,
    fault: { ...spec.fault, startS: startOf(spec.fault.injectedAt), endS: startOf(spec.fault.liftedAt) },
    settings,
    poll: { tries: resolveSetting(file.checkout.pollTries, env), intervalS: resolveSetting(file.checkout.pollIntervalS, env), inProgressRetries: file.checkout.inProgressRetries },
    thresholds: resolveThresholds(spec.thresholds, resolved),
    totalS: offset,
  };
}

export interface SmokePlan {
  maxDurationS: number;
  poll: DegradationPlan['poll'];
  thresholds: Record<string, string[]>;
}

export function smokePlan(file: ScenarioFile, env: Env): SmokePlan {
  return {
    maxDurationS: toSeconds(file.smoke.maxDuration, 'smoke.maxDuration'),
    poll: { tries: resolveSetting(file.checkout.pollTries, env), intervalS: resolveSetting(file.checkout.pollIntervalS, env), inProgressRetries: file.checkout.inProgressRetries },
    thresholds: resolveThresholds(file.smoke.thresholds, {}),
  };
}

/** The environment CI runs a scenario with: the scenario's `ci.env` under whatever `env` already sets. */
export function withCiProfile(file: ScenarioFile, env: Env): Env {
  return { ...file.degradation.ci.env, ...Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== '')) };
}
