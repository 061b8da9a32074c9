import type { JsonValue } from './pyjson';

/**
 * Python JSON with ints and floats kept apart: every integer literal becomes a bigint, every
 * float a number (`1` -> 1n, `1.0` -> 1). Exporting a study must write `1` where Optuna wrote
 * `1` and `1.0` where it wrote `1.0` (attribute values, categorical choices, IntDistribution
 * bounds), which a plain parse cannot tell apart. Also reads NaN/Infinity tokens.
 *
 * Each number (and NaN/Infinity) is replaced by a string "\u0000<i|f><literal>" before
 * JSON.parse, and a reviver turns those back. A string value that itself starts with U+0000 is
 * escaped as "\u0000s<original>" so that it cannot pass for a number; keys are left alone (a
 * reviver never sees them, and numbers are never keys).
 */
const TOKEN =
  /("(?:[^"\\]|\\.)*")(\s*:)?|(-?(?:0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?)|(NaN|-?Infinity)/g;
const ESCAPED_NUL = '\\u0000';

export function parseTypedPyJson(text: string): JsonValue {
  const marked = text.replace(
    TOKEN,
    (
      m,
      str: string | undefined,
      colon: string | undefined,
      num: string | undefined,
      frac: string | undefined,
      exp: string | undefined,
      special: string | undefined,
    ) => {
      if (str !== undefined)
        return colon !== undefined || !str.startsWith(`"${ESCAPED_NUL}`)
          ? m
          : `"${ESCAPED_NUL}s${str.slice(1)}`;
      if (special !== undefined) return `"${ESCAPED_NUL}f${special}"`;
      return `"${ESCAPED_NUL}${frac || exp ? 'f' : 'i'}${num}"`;
    },
  );
  return JSON.parse(marked, (_key, v: unknown) => {
    if (typeof v !== 'string' || v.charCodeAt(0) !== 0) return v;
    const payload = v.slice(2);
    switch (v[1]) {
      case 'i':
        return BigInt(payload);
      case 'f':
        return Number(payload);
      default:
        return payload;
    }
  }) as JsonValue;
}
