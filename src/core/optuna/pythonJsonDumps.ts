import type { JsonValue } from './pythonJsonParse';

/**
 * Text exactly as Python's `json.dumps` writes it, for records this project appends to an
 * Optuna journal: default (v3) separators or compact (v4) ones, ensure_ascii, bare
 * NaN/Infinity, floats always with a fraction or exponent, integers with all digits.
 * JS numbers cannot say int or float: pass a bigint for a Python int.
 */
export function pythonDumps(v: JsonValue, compact = false): string {
  const [item, kv] = compact ? [',', ':'] : [', ', ': '];
  if (v === null) return 'null';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'number') return pythonFloatRepr(v);
  if (typeof v === 'string')
    return JSON.stringify(v).replace(
      /[\u007f-\uffff]/g,
      (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'),
    );
  if (Array.isArray(v)) return '[' + v.map((x) => pythonDumps(x, compact)).join(item) + ']';
  return (
    '{' +
    Object.entries(v)
      .map(([k, x]) => pythonDumps(k, compact) + kv + pythonDumps(x, compact))
      .join(item) +
    '}'
  );
}

/**
 * Python's `repr(float)` (and json.dumps's NaN/Infinity): the shortest round-trip digits (as
 * JS), but exponent form below 1e-4 and from 1e16, with at least two exponent digits, and
 * ".0" on integral values.
 */
export function pythonFloatRepr(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (!Number.isFinite(v)) return v > 0 ? 'Infinity' : '-Infinity';
  if (Object.is(v, -0)) return '-0.0';
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-4 || a >= 1e16)) {
    return v.toExponential().replace(/e([+-])(\d)$/, 'e$10$2');
  }
  const s = String(v);
  return Number.isInteger(v) ? `${s}.0` : s;
}
