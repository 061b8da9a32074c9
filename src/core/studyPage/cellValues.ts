import type { JsonValue } from '../optuna/pythonJsonParse';
import { toStrictJson } from '../optuna/strictJson';

/**
 * How a trial's JSON value becomes a study-page cell: a number for a numeric column, a
 * label (as Python prints it) for a categorical or text one.
 */

export function numberLike(v: JsonValue): boolean {
  return typeof v === 'number' || typeof v === 'bigint';
}

/** The value as a float column holds it; NaN for what is not a number. */
export function toNumber(v: JsonValue | undefined): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  return NaN;
}

/** A categorical choice as Python prints it. */
export function labelOf(v: JsonValue): string {
  if (typeof v === 'string') return v;
  if (v === null) return 'None';
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'number') {
    if (Number.isNaN(v)) return 'nan';
    if (!Number.isFinite(v)) return v > 0 ? 'inf' : '-inf';
  }
  return typeof v === 'object' ? toStrictJson(v) : String(v);
}
