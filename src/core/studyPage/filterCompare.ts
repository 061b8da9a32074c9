import type { Scalar } from './filterTokens';

/**
 * How the filter compares values: numbers numerically (a number-like text or a bool counts
 * as its number, nan equals nan as the table shows it), texts by their characters, and null
 * only equals null and is never ordered.
 */

function asNumber(v: Scalar): number | undefined {
  if (typeof v === 'number') return v;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'string' && v.trim() !== '') {
    const n = Number(v);
    return Number.isNaN(n) && v !== 'nan' ? undefined : n;
  }
  return undefined;
}

export function equal(a: Scalar, b: Scalar): boolean {
  if (a === null || b === null) return a === b;
  if (typeof a === 'string' && typeof b === 'string') return a === b;
  const x = asNumber(a);
  const y = asNumber(b);
  if (x === undefined || y === undefined) return false;
  return x === y || (Number.isNaN(x) && Number.isNaN(y));
}

export function order(a: Scalar, b: Scalar, op: string): boolean {
  if (a === null || b === null) return false;
  let c: number;
  if (typeof a === 'string' && typeof b === 'string') c = a < b ? -1 : a > b ? 1 : 0;
  else {
    const x = asNumber(a);
    const y = asNumber(b);
    if (x === undefined || y === undefined || Number.isNaN(x) || Number.isNaN(y)) return false;
    c = x < y ? -1 : x > y ? 1 : 0;
  }
  switch (op) {
    case '<':
      return c < 0;
    case '<=':
      return c <= 0;
    case '>':
      return c > 0;
    default:
      return c >= 0;
  }
}
