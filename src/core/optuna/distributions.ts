import { type JsonObject, type JsonValue, parsePyJson } from './pythonJsonParse';
import { pythonDumps } from './pythonJsonDumps';
import type { Distribution } from './model';

const FLOAT_CLASSES = new Set([
  'FloatDistribution',
  'UniformDistribution',
  'LogUniformDistribution',
  'DiscreteUniformDistribution',
]);
const INT_CLASSES = new Set([
  'IntDistribution',
  'IntUniformDistribution',
  'IntLogUniformDistribution',
]);

/** Float and int distributions (modern and legacy): their internal representation is the value as a float. */
export function isNumeric(d: Distribution): boolean {
  return FLOAT_CLASSES.has(d.name) || INT_CLASSES.has(d.name);
}
const REQUIRED: Record<string, string[]> = {
  FloatDistribution: ['low', 'high'],
  UniformDistribution: ['low', 'high'],
  LogUniformDistribution: ['low', 'high'],
  DiscreteUniformDistribution: ['low', 'high', 'q'],
  IntDistribution: ['low', 'high'],
  IntUniformDistribution: ['low', 'high'],
  IntLogUniformDistribution: ['low', 'high'],
  CategoricalDistribution: ['choices'],
};

function isObject(v: JsonValue | undefined): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * `json_to_distribution`: the named form, and the abbreviated `{"type": ...}` form Optuna
 * also accepts. Throws on what Optuna would refuse.
 */
export function distributionFromJsonValue(v: JsonValue): Distribution {
  if (!isObject(v)) throw new Error('distribution is not a JSON object');
  if ('name' in v) {
    const name = v.name;
    if (typeof name !== 'string' || !(name in REQUIRED))
      throw new Error(`unknown distribution class ${JSON.stringify(name)}`);
    const attributes = v.attributes;
    if (!isObject(attributes)) throw new Error(`${name} has no attributes`);
    for (const key of REQUIRED[name]) {
      if (!(key in attributes)) throw new Error(`${name} lacks "${key}"`);
    }
    if (
      name === 'CategoricalDistribution' &&
      (!Array.isArray(attributes.choices) || attributes.choices.length === 0)
    ) {
      throw new Error('CategoricalDistribution needs a non-empty list of choices');
    }
    return { name, attributes };
  }
  switch (v.type) {
    case 'categorical':
      if (!Array.isArray(v.choices) || v.choices.length === 0)
        throw new Error('categorical needs choices');
      return { name: 'CategoricalDistribution', attributes: { choices: v.choices } };
    case 'float':
      return {
        name: 'FloatDistribution',
        attributes: { step: v.step ?? null, low: v.low, high: v.high, log: v.log ?? false },
      };
    case 'int':
      return {
        name: 'IntDistribution',
        attributes: { log: v.log ?? false, step: v.step ?? 1, low: v.low, high: v.high },
      };
    default:
      throw new Error(`unknown distribution type ${JSON.stringify(v.type)}`);
  }
}

/**
 * Parses the double-encoded distribution strings of the journal. Thousands of trials share a
 * handful of distinct strings, so parsed objects are shared (less memory, less parsing).
 */
export class DistributionCache {
  private readonly cache = new Map<string, Distribution>();

  /** `parseJson`: e.g. a typed parser that keeps Python ints apart from floats (exports). */
  constructor(private readonly parseJson: (text: string) => JsonValue = parsePyJson) {}

  parse(json: JsonValue): Distribution {
    if (typeof json !== 'string') return distributionFromJsonValue(json);
    let d = this.cache.get(json);
    if (!d) {
      d = distributionFromJsonValue(this.parseJson(json));
      this.cache.set(json, d);
    }
    return d;
  }
}

export function isLog(d: Distribution): boolean {
  if (d.name === 'LogUniformDistribution' || d.name === 'IntLogUniformDistribution') return true;
  return d.attributes.log === true;
}

/** `check_distribution_compatibility`: same class, same `log`, same categorical choices. */
export function compatible(old: Distribution, next: Distribution): boolean {
  if (old.name !== next.name) return false;
  if (old.name === 'CategoricalDistribution') {
    const a = old.attributes.choices as JsonValue[];
    const b = next.attributes.choices as JsonValue[];
    return a.length === b.length && a.every((x, i) => pyEquals(x, b[i]));
  }
  return isLog(old) === isLog(next);
}

/** Python `==` on JSON scalars: True == 1 == 1.0, None only equals None. */
export function pyEquals(a: JsonValue, b: JsonValue): boolean {
  const na = numeric(a);
  const nb = numeric(b);
  if (na !== undefined && nb !== undefined) {
    if (typeof na === 'bigint' || typeof nb === 'bigint') {
      try {
        return BigInt(na) === BigInt(nb);
      } catch {
        return false; // a non-integral float never equals a big integer
      }
    }
    // json's NaN is one shared object, and tuple comparison checks identity first.
    return na === nb || (Number.isNaN(na) && Number.isNaN(nb));
  }
  if (typeof a === 'string' && typeof b === 'string') return a === b;
  return a === null && b === null;
}

function numeric(v: JsonValue): number | bigint | undefined {
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'number' || typeof v === 'bigint') return v;
  return undefined;
}

/** `to_external_repr`: floats as stored, ints truncated, categoricals by index. */
export function toExternal(d: Distribution, internal: JsonValue): JsonValue {
  if (INT_CLASSES.has(d.name)) {
    if (typeof internal === 'bigint') return internal;
    if (typeof internal !== 'number' || !Number.isFinite(internal))
      throw new Error(`invalid int param value ${String(internal)}`);
    const t = Math.trunc(internal);
    return Number.isSafeInteger(t) ? t : BigInt(t);
  }
  if (FLOAT_CLASSES.has(d.name)) return internal;
  const choices = d.attributes.choices as JsonValue[];
  const index = typeof internal === 'bigint' ? Number(internal) : Math.trunc(internal as number);
  if (!Number.isInteger(index)) throw new Error(`invalid categorical index ${String(internal)}`);
  // Python indexing: negative indices count from the end; out of range raises.
  const i = index < 0 ? choices.length + index : index;
  if (i < 0 || i >= choices.length) throw new Error(`categorical index ${index} out of range`);
  return choices[i];
}

/** Python `float(x)`: JS numbers are floats already; a bigint becomes one. */
export const pythonFloat = (v: JsonValue): number =>
  typeof v === 'bigint' ? Number(v) : (v as number);

/**
 * `Distribution.to_internal_repr`, the inverse of `toExternal`: a float for Float/Int
 * distributions (3 -> 3.0), the index of the first equal choice (Python `==`, NaN equal to
 * NaN) for categoricals.
 */
export function internalRepr(d: Distribution, external: JsonValue): JsonValue {
  if (isNumeric(d)) return pythonFloat(external);
  const choices = d.attributes.choices as JsonValue[];
  const i = choices.findIndex((c) => pyEquals(c, external));
  if (i < 0)
    throw new Error(`${pythonDumps(external)} is not one of the choices ${pythonDumps(choices)}`);
  return BigInt(i);
}

/**
 * `distribution_to_json`: the class name and its attributes in their own order. Attributes
 * must be typed (bigint for Python ints), as the constructors below and the typed parser
 * give them.
 */
export function distributionJson(d: Distribution): string {
  return pythonDumps({ name: d.name, attributes: d.attributes });
}

/** `FloatDistribution(low, high, log=..., step=...)`, attributes in Optuna's order. */
export function floatDistribution(
  low: number,
  high: number,
  o: { log?: boolean; step?: number | null } = {},
): Distribution {
  return {
    name: 'FloatDistribution',
    attributes: { step: o.step ?? null, low, high, log: o.log ?? false },
  };
}

/** `IntDistribution(low, high, log=..., step=...)`: Python ints, so bigints. */
export function intDistribution(
  low: number,
  high: number,
  o: { log?: boolean; step?: number } = {},
): Distribution {
  return {
    name: 'IntDistribution',
    attributes: {
      log: o.log ?? false,
      step: BigInt(o.step ?? 1),
      low: BigInt(low),
      high: BigInt(high),
    },
  };
}

/** `CategoricalDistribution(choices)`: pass a bigint for a Python int choice. */
export function categoricalDistribution(choices: JsonValue[]): Distribution {
  return { name: 'CategoricalDistribution', attributes: { choices } };
}
