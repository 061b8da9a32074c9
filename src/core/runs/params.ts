import { CONTROL_CHARS } from './shell';

/** What a run parameter holds; each type has its own validation. */
export type ParamType = 'int' | 'number' | 'date' | 'choice' | 'string';
export const PARAM_TYPES: readonly ParamType[] = ['int', 'number', 'date', 'choice', 'string'];

/**
 * Roles let the extension understand a parameter: `trials` is the planned trial count (the
 * progress denominator), `study` the Optuna study the run writes to, `jobs` the parallelism.
 * Without a role, parameters named `trials`, `study` and `jobs` take those roles.
 */
export type ParamRole = 'trials' | 'study' | 'jobs';

export interface ParamSpec {
  name: string;
  type: ParamType;
  /** Shown in the form instead of the name. */
  label?: string;
  description?: string;
  /** int/number: numeric bounds; date: YYYYMMDD bounds. Inclusive. */
  min?: number | string;
  max?: number | string;
  /** choice: the allowed values. */
  choices?: string[];
  default?: string | number;
  /** Another parameter this one must not be below (e.g. `end` ≥ `start`, `max` ≥ `min`). */
  atLeast?: string;
  /** string: a regular expression the whole value must match. */
  pattern?: string;
  role?: ParamRole;
}

export type Values = Record<string, string>;
export type ValueCheck = { ok: true; value: string } | { ok: false; message: string };

const INT = /^[+-]?\d+$/;
const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;
const DATE = /^(\d{4})(\d{2})(\d{2})$/;
const MAX_STRING = 256;

export function roleOf(p: ParamSpec): ParamRole | undefined {
  if (p.role) return p.role;
  return p.name === 'trials' || p.name === 'study' || p.name === 'jobs' ? p.name : undefined;
}

/** A real calendar date written YYYYMMDD (20240229 yes, 20230229 no). */
export function isCalendarDate(text: string): boolean {
  const m = DATE.exec(text);
  if (!m) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (mo < 1 || mo > 12 || d < 1 || y < 1) return false;
  const t = new Date(Date.UTC(y, mo - 1, d));
  return t.getUTCFullYear() === y && t.getUTCMonth() === mo - 1 && t.getUTCDate() === d;
}

function rangeText(p: ParamSpec): string {
  if (p.min !== undefined && p.max !== undefined) return `from ${p.min} to ${p.max}`;
  if (p.min !== undefined) return `at least ${p.min}`;
  if (p.max !== undefined) return `at most ${p.max}`;
  return '';
}

/** A one-line hint for the form: type and allowed range. */
export function describeParam(p: ParamSpec): string {
  const range = rangeText(p);
  switch (p.type) {
    case 'int':
      return `whole number${range ? ` ${range}` : ''}`;
    case 'number':
      return `number${range ? ` ${range}` : ''}`;
    case 'date':
      return `date as YYYYMMDD${range ? ` ${range}` : ''}`;
    case 'choice':
      return `one of ${(p.choices ?? []).join(', ')}`;
    case 'string':
      return p.pattern
        ? `text matching /${p.pattern}/`
        : 'text (quoted for the shell, any characters but control characters)';
  }
}

/**
 * Checks one value against its spec and returns it normalized (trimmed; integers without a
 * sign or leading zeros). Everything a user types ends up either rejected here or quoted by
 * the template, never interpreted by a shell.
 */
export function checkValue(p: ParamSpec, raw: string): ValueCheck {
  const text = raw.trim();
  const name = p.label ?? p.name;
  if (text === '') return { ok: false, message: `${name} is required` };
  if (CONTROL_CHARS.test(text))
    return {
      ok: false,
      message: `${name} must not contain line breaks, tabs or other control characters`,
    };
  switch (p.type) {
    case 'int': {
      if (!INT.test(text))
        return {
          ok: false,
          message: `${name} must be a whole number (digits only), got "${text}"`,
        };
      const n = Number(text);
      if (!Number.isSafeInteger(n)) return { ok: false, message: `${name} is too large` };
      const bad = outOfRange(p, n);
      return bad
        ? { ok: false, message: `${name} must be ${bad}` }
        : { ok: true, value: String(n) };
    }
    case 'number': {
      if (!NUMBER.test(text))
        return { ok: false, message: `${name} must be a number like 0.5 or 1e-3, got "${text}"` };
      const n = Number(text);
      if (!Number.isFinite(n)) return { ok: false, message: `${name} must be finite` };
      const bad = outOfRange(p, n);
      return bad
        ? { ok: false, message: `${name} must be ${bad}` }
        : { ok: true, value: text.replace(/^\+/, '') };
    }
    case 'date': {
      if (!DATE.test(text))
        return { ok: false, message: `${name} must be a date written YYYYMMDD, e.g. 20240607` };
      if (!isCalendarDate(text))
        return { ok: false, message: `${name}: ${text} is not a calendar date` };
      if (p.min !== undefined && text < String(p.min))
        return { ok: false, message: `${name} must be ${rangeText(p)}` };
      if (p.max !== undefined && text > String(p.max))
        return { ok: false, message: `${name} must be ${rangeText(p)}` };
      return { ok: true, value: text };
    }
    case 'choice': {
      const choices = p.choices ?? [];
      if (!choices.includes(text))
        return { ok: false, message: `${name} must be one of: ${choices.join(', ')}` };
      return { ok: true, value: text };
    }
    case 'string': {
      if (text.length > MAX_STRING)
        return { ok: false, message: `${name} is longer than ${MAX_STRING} characters` };
      if (p.pattern !== undefined && !new RegExp(p.pattern, 'u').test(text))
        return { ok: false, message: `${name} must match /${p.pattern}/` };
      return { ok: true, value: text };
    }
  }
}

function outOfRange(p: ParamSpec, n: number): string | undefined {
  const lo = p.min === undefined ? undefined : Number(p.min);
  const hi = p.max === undefined ? undefined : Number(p.max);
  if ((lo !== undefined && n < lo) || (hi !== undefined && n > hi)) return rangeText(p);
  return undefined;
}

/** `atLeast` between two already valid values. */
export function checkOrder(
  p: ParamSpec,
  value: string,
  other: ParamSpec,
  otherValue: string,
): string | undefined {
  const below = p.type === 'date' ? value < otherValue : Number(value) < Number(otherValue);
  return below
    ? `${p.label ?? p.name} (${value}) must not be below ${other.label ?? other.name} (${otherValue})`
    : undefined;
}

/** Every value checked, then the order constraints; messages keyed by parameter name. */
export function checkValues(
  params: ParamSpec[],
  values: Values,
): { values: Values; errors: Record<string, string> } {
  const out: Values = {};
  const errors: Record<string, string> = {};
  for (const p of params) {
    const r = checkValue(p, values[p.name] ?? '');
    if (r.ok) out[p.name] = r.value;
    else errors[p.name] = r.message;
  }
  for (const p of params) {
    if (!p.atLeast || errors[p.name]) continue;
    const other = params.find((q) => q.name === p.atLeast);
    if (!other || errors[other.name]) continue;
    const msg = checkOrder(p, out[p.name], other, out[other.name]);
    if (msg) errors[p.name] = msg;
  }
  return { values: out, errors };
}

/** Longest `pattern` a parameter may have (settings can come from a workspace). */
const MAX_PATTERN_LENGTH = 200;

/**
 * Parameter specs from settings (arbitrary JSON): what is usable, and why the rest is not.
 * A spec with a problem is dropped with a message rather than half-applied.
 */
export function normalizeParams(raw: unknown): { params: ParamSpec[]; problems: string[] } {
  const params: ParamSpec[] = [];
  const problems: string[] = [];
  if (!Array.isArray(raw))
    return {
      params,
      problems: raw === undefined ? [] : ['the parameters setting must be an array'],
    };
  const seen = new Set<string>();
  raw.forEach((r, i) => {
    const where = `parameter ${i + 1}`;
    if (!r || typeof r !== 'object' || Array.isArray(r))
      return void problems.push(`${where} is not an object`);
    const o = r as Record<string, unknown>;
    const name = o.name;
    if (typeof name !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(name))
      return void problems.push(`${where}: "name" must be an identifier (letters, digits, _)`);
    if (seen.has(name)) return void problems.push(`${where}: duplicate name "${name}"`);
    const type = o.type ?? 'string';
    if (typeof type !== 'string' || !PARAM_TYPES.includes(type as ParamType))
      return void problems.push(`${name}: "type" must be one of ${PARAM_TYPES.join(', ')}`);
    const spec: ParamSpec = { name, type: type as ParamType };
    for (const k of ['label', 'description', 'pattern', 'atLeast'] as const) {
      if (o[k] === undefined) continue;
      if (typeof o[k] !== 'string') return void problems.push(`${name}: "${k}" must be a string`);
      spec[k] = o[k] as string;
    }
    if (spec.pattern !== undefined) {
      // Compiled and run on every keystroke of the launch form: a short pattern only.
      if (spec.pattern.length > MAX_PATTERN_LENGTH)
        return void problems.push(
          `${name}: "pattern" is longer than ${MAX_PATTERN_LENGTH} characters`,
        );
      try {
        new RegExp(spec.pattern, 'u');
      } catch (e) {
        return void problems.push(
          `${name}: "pattern" is not a regular expression: ${(e as Error).message}`,
        );
      }
    }
    for (const k of ['min', 'max'] as const) {
      const v = o[k];
      if (v === undefined) continue;
      if (spec.type === 'date') {
        if (!isCalendarDate(String(v)))
          return void problems.push(`${name}: "${k}" must be a YYYYMMDD date`);
        spec[k] = String(v);
      } else if (typeof v === 'number' && Number.isFinite(v)) spec[k] = v;
      else return void problems.push(`${name}: "${k}" must be a number`);
    }
    if (spec.type === 'choice') {
      const c = o.choices;
      if (
        !Array.isArray(c) ||
        c.length === 0 ||
        !c.every((x) => typeof x === 'string' || typeof x === 'number')
      )
        return void problems.push(`${name}: a choice needs a non-empty "choices" list`);
      spec.choices = c.map(String);
    }
    if (o.default !== undefined) {
      if (typeof o.default !== 'string' && typeof o.default !== 'number')
        return void problems.push(`${name}: "default" must be a string or a number`);
      spec.default = o.default;
    }
    if (o.role !== undefined) {
      if (o.role !== 'trials' && o.role !== 'study' && o.role !== 'jobs')
        return void problems.push(`${name}: "role" must be trials, study or jobs`);
      spec.role = o.role;
    }
    seen.add(name);
    params.push(spec);
  });
  for (const p of params) {
    if (p.atLeast && !seen.has(p.atLeast))
      problems.push(`${p.name}: "atLeast" names no parameter ("${p.atLeast}")`);
  }
  return { params, problems };
}

/** Default values of the specs (as strings), for the form's first run. */
export function defaultValues(params: ParamSpec[]): Values {
  const out: Values = {};
  for (const p of params) if (p.default !== undefined) out[p.name] = String(p.default);
  return out;
}
