import type { JsonValue } from './pythonJsonParse';

/**
 * A JSON value as Python source, for snippets users paste into their scripts:
 * None/True/False, floats that read back exactly, float("nan") and float("inf").
 */
export function pythonLiteral(v: JsonValue): string {
  if (v === null) return 'None';
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'number') {
    if (Number.isNaN(v)) return 'float("nan")';
    if (!Number.isFinite(v)) return v > 0 ? 'float("inf")' : '-float("inf")';
    return String(v);
  }
  if (typeof v === 'string') return pythonString(v);
  if (Array.isArray(v)) return `[${v.map(pythonLiteral).join(', ')}]`;
  return `{${Object.entries(v)
    .map(([k, x]) => `${pythonString(k)}: ${pythonLiteral(x)}`)
    .join(', ')}}`;
}

function pythonString(s: string): string {
  // JSON string escapes are valid Python escapes, except that Python has no \/ need.
  return JSON.stringify(s);
}

/** `study.enqueue_trial({...})` with the trial's external param values. */
export function enqueueTrialSnippet(params: Record<string, JsonValue>): string {
  return `study.enqueue_trial(${pythonLiteral(params)})`;
}
