import type { JsonValue } from './pythonJsonParse';

/**
 * Strict JSON for output (cli-contract.md): non-finite floats become {"__float__": "NaN"} etc.,
 * big integers keep every digit, -0.0 keeps its sign.
 */
export function toStrictJson(value: JsonValue | undefined, indent = ''): string {
  const v = value ?? null;
  if (indent === '' && plain(v)) return JSON.stringify(v);
  const parts: string[] = [];
  write(v, parts, indent, '');
  return parts.join('');
}

/** 2^53: integral doubles from here on are written in exponent form (see `write`). */
const EXACT_INT_LIMIT = 9007199254740992;

/** `toStrictJson(v)` of a number, without the walk: column readers write their floats so. */
export function numberJson(v: number): string {
  return plainNumber(v) ? String(v) : toStrictJson(v);
}

/** A number JSON.stringify writes as `write` does: finite, not -0, below 2^53 in magnitude. */
function plainNumber(v: number): boolean {
  return v < EXACT_INT_LIMIT && v > -EXACT_INT_LIMIT && (v !== 0 || 1 / v > 0);
}

/**
 * True when JSON.stringify writes `v` exactly as `write` does: no bigint, no non-finite or -0
 * float, no integral double beyond 2^53 (all doubles that large are integral). Nearly every
 * value of a study is plain, and the native writer is many times faster.
 */
function plain(v: JsonValue): boolean {
  switch (typeof v) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return plainNumber(v);
    case 'object':
      if (v === null) return true;
      if (Array.isArray(v)) {
        for (let i = 0; i < v.length; i++) if (!plain(v[i])) return false;
        return true;
      }
      for (const k in v) if (!plain(v[k])) return false;
      return true;
    default:
      return false;
  }
}

function write(v: JsonValue, out: string[], indent: string, cur: string): void {
  if (indent === '' && typeof v === 'object' && plain(v)) {
    out.push(JSON.stringify(v));
    return;
  }
  switch (typeof v) {
    case 'number':
      // Integral doubles beyond 2^53 are written in exponent form so they read back as floats.
      if (Number.isFinite(v))
        out.push(
          Object.is(v, -0)
            ? '-0.0'
            : Number.isInteger(v) && Math.abs(v) >= 2 ** 53
              ? v.toExponential()
              : String(v),
        );
      else
        out.push(`{"__float__": "${Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity'}"}`);
      return;
    case 'bigint':
      out.push(v.toString());
      return;
    case 'string':
      out.push(JSON.stringify(v));
      return;
    case 'boolean':
      out.push(v ? 'true' : 'false');
      return;
    case 'object':
      break;
    default:
      out.push('null');
      return;
  }
  if (v === null) {
    out.push('null');
    return;
  }
  const inner = indent ? cur + indent : '';
  const nl = indent ? '\n' : '';
  const sep = indent ? ': ' : ':';
  if (Array.isArray(v)) {
    if (v.length === 0) return void out.push('[]');
    out.push('[' + nl);
    v.forEach((item, i) => {
      out.push(inner);
      write(item, out, indent, inner);
      if (i < v.length - 1) out.push(',');
      out.push(nl);
    });
    out.push(cur + ']');
    return;
  }
  const keys = Object.keys(v);
  if (keys.length === 0) return void out.push('{}');
  out.push('{' + nl);
  keys.forEach((k, i) => {
    out.push(inner + JSON.stringify(k) + sep);
    write(v[k], out, indent, inner);
    if (i < keys.length - 1) out.push(',');
    out.push(nl);
  });
  out.push(cur + '}');
}
