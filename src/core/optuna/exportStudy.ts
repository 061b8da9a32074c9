import type { Study, Trial } from './model';
import { type JsonValue, toStrictJson } from './pyjson';
import { studyToJson } from './dumpFormat';

/** The study as one JSON document in the `dump` format (strict JSON, exact numbers). */
export function studyAsJson(study: Study, trials: Trial[] = study.trials): string {
  return toStrictJson({ ...studyToJson({ ...study, trials }) }, '  ') + '\n';
}

/**
 * The study as CSV with the columns of Optuna's `study.trials_dataframe()`: number, value(s),
 * datetime_start, datetime_complete, duration, params_*, user_attrs_*, system_attrs_*, state.
 */
export function studyAsCsv(study: Study, trials: Trial[] = study.trials): string {
  const multi = study.directions.length > 1;
  const valueCols = multi ? study.directions.map((_d, i) => `values_${i}`) : ['value'];
  const collect = (pick: (t: Trial) => Record<string, JsonValue>) =>
    [...new Set(trials.flatMap((t) => Object.keys(pick(t))))].sort();
  const params = collect((t) => t.params);
  const user = collect((t) => t.userAttrs);
  const system = collect((t) => t.systemAttrs);
  const header = [
    'number',
    ...valueCols,
    'datetime_start',
    'datetime_complete',
    'duration',
    ...params.map((p) => `params_${p}`),
    ...user.map((k) => `user_attrs_${k}`),
    ...system.map((k) => `system_attrs_${k}`),
    'state',
  ];
  const rows = trials.map((t) => [
    t.number,
    ...valueCols.map((_c, i) => t.values?.[i] ?? null),
    t.datetimeStart,
    t.datetimeComplete,
    duration(t),
    ...params.map((p) => t.params[p] ?? null),
    ...user.map((k) => t.userAttrs[k] ?? null),
    ...system.map((k) => t.systemAttrs[k] ?? null),
    t.state,
  ]);
  return [header, ...rows].map((r) => r.map(csvCell).join(',')).join('\n') + '\n';
}

/** pandas' Timedelta text, e.g. "0 days 00:00:01.500000". */
function duration(t: Trial): string | null {
  if (!t.datetimeStart || !t.datetimeComplete) return null;
  const us = Math.round((Date.parse(t.datetimeComplete) - Date.parse(t.datetimeStart)) * 1000);
  if (!Number.isFinite(us)) return null;
  const days = Math.floor(us / 86_400e6);
  let rest = us - days * 86_400e6;
  const h = Math.floor(rest / 3_600e6);
  rest -= h * 3_600e6;
  const m = Math.floor(rest / 60e6);
  rest -= m * 60e6;
  const s = Math.floor(rest / 1e6);
  const frac = rest - s * 1e6;
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${days} days ${pad(h)}:${pad(m)}:${pad(s)}.${pad(frac, 6)}`;
}

function csvCell(v: JsonValue | undefined): string {
  if (v === null || v === undefined) return '';
  let text: string;
  if (typeof v === 'number')
    text = Number.isNaN(v) ? 'nan' : v === Infinity ? 'inf' : v === -Infinity ? '-inf' : String(v);
  else if (typeof v === 'string') text = v;
  else if (typeof v === 'boolean') text = v ? 'True' : 'False';
  else text = toStrictJson(v);
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}
