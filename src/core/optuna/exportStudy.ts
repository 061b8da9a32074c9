import type { Study, Trial } from './model';
import { type JsonValue } from './pythonJsonParse';
import { toStrictJson } from './strictJson';
import { studyToJson } from './dumpFormat';
import { pythonFloatRepr } from './pythonJsonDumps';

/** The study as one JSON document in the `dump` format (strict JSON, exact numbers). */
export function studyAsJson(study: Study, trials: readonly Trial[] = study.trials): string {
  return toStrictJson({ ...studyToJson({ ...study, trials }) }, '  ') + '\n';
}

/**
 * The study as CSV the way `study.trials_dataframe().to_csv(index=False)` writes it: columns
 * number, value(s), datetime_start, datetime_complete, duration, params_*, user_attrs_*,
 * system_attrs_*, state; datetimes and durations to the microsecond as pandas formats them,
 * floats as Python's repr, missing values (and NaN) empty.
 */
export function studyAsCsv(study: Study, trials: readonly Trial[] = study.trials): string {
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
  const starts = trials.map((t) => parseStamp(t.datetimeStart));
  const completes = trials.map((t) => parseStamp(t.datetimeComplete));
  // pandas keeps both datetime columns in one block and picks one precision for all of it.
  const writeStamp = stampWriter([...starts, ...completes]);
  const durations = trials.map((_t, i) => durationUs(starts[i], completes[i]));
  const writeDuration = durationWriter(durations);
  const paramCell = params.map((p) => paramWriter(trials, p));
  const rows = trials.map((t, i) => [
    String(t.number),
    ...valueCols.map((_c, j) => floatCell(t.values?.[j])),
    writeStamp(starts[i]),
    writeStamp(completes[i]),
    writeDuration(durations[i]),
    ...paramCell.map((write) => write(t)),
    ...user.map((k) => csvCell(t.userAttrs[k])),
    ...system.map((k) => csvCell(t.systemAttrs[k])),
    t.state,
  ]);
  return [header, ...rows].map((r) => r.map(quoteCsv).join(',')).join('\n') + '\n';
}

/** A stored datetime split into what pandas prints: microseconds since the epoch, offset kept. */
interface Stamp {
  date: string;
  /** HH:MM:SS */
  time: string;
  micros: number;
  /** Microseconds since 1970-01-01 of the wall-clock time (offset not applied). */
  epochUs: number;
  offset: string;
  offsetUs: number;
}

const STAMP =
  /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?(Z|[+-]\d{2}:?\d{2})?$/;

function parseStamp(text: string | null): Stamp | undefined {
  const m = text ? STAMP.exec(text) : null;
  if (!m) return undefined;
  const [, y, mo, d, h, mi, se, frac, off] = m;
  const micros = frac ? Number(frac.padEnd(6, '0')) : 0;
  const day = Date.UTC(Number(y), Number(mo) - 1, Number(d)) / 86_400_000;
  const secs = day * 86_400 + Number(h) * 3600 + Number(mi) * 60 + Number(se);
  let offsetUs = 0;
  if (off && off !== 'Z') {
    const o = /([+-])(\d{2}):?(\d{2})/.exec(off)!;
    offsetUs = (o[1] === '-' ? -1 : 1) * (Number(o[2]) * 3600 + Number(o[3]) * 60) * 1e6;
  }
  return {
    date: `${y}-${mo}-${d}`,
    time: `${h}:${mi}:${se}`,
    micros,
    epochUs: secs * 1e6 + micros,
    offset: off === 'Z' ? '+00:00' : (off ?? ''),
    offsetUs,
  };
}

/**
 * pandas' default datetime text: "YYYY-MM-DD HH:MM:SS" plus the finest fraction any value of
 * the block needs (.ffffff, or .fff when all are whole milliseconds), or the date alone when
 * every value is midnight. Values with an offset print it, as pandas does for aware times.
 */
function stampWriter(all: Array<Stamp | undefined>): (s: Stamp | undefined) => string {
  const naive = all.filter((s): s is Stamp => s !== undefined && s.offset === '');
  const digits = naive.some((s) => s.micros % 1000 !== 0)
    ? 6
    : naive.some((s) => s.micros !== 0)
      ? 3
      : 0;
  const datesOnly = naive.length > 0 && naive.every((s) => s.time === '00:00:00' && !s.micros);
  return (s) => {
    if (!s) return '';
    if (s.offset) return `${s.date} ${s.time}${s.micros ? `.${pad(s.micros, 6)}` : ''}${s.offset}`;
    if (datesOnly) return s.date;
    const frac = digits === 0 ? '' : `.${pad(Math.floor(s.micros / 10 ** (6 - digits)), digits)}`;
    return `${s.date} ${s.time}${frac}`;
  };
}

function durationUs(a: Stamp | undefined, b: Stamp | undefined): number | undefined {
  if (!a || !b) return undefined;
  return b.epochUs - b.offsetUs - (a.epochUs - a.offsetUs);
}

const DAY_US = 86_400e6;

/**
 * pandas' Timedelta text: "D days HH:MM:SS[.ffffff]" (the fraction only where a value has
 * one; negative ones as "-1 days +23:59:59.5"), or "D days" when every value is whole days.
 */
function durationWriter(all: Array<number | undefined>): (us: number | undefined) => string {
  const known = all.filter((us): us is number => us !== undefined);
  const evenDays = known.length > 0 && known.every((us) => us % DAY_US === 0);
  return (us) => {
    if (us === undefined) return '';
    const days = Math.floor(us / DAY_US);
    if (evenDays) return `${days} days`;
    let rest = us - days * DAY_US;
    const h = Math.floor(rest / 3_600e6);
    rest -= h * 3_600e6;
    const m = Math.floor(rest / 60e6);
    rest -= m * 60e6;
    const sec = Math.floor(rest / 1e6);
    const frac = rest - sec * 1e6;
    return `${days} days${days < 0 ? ' +' : ' '}${pad(h, 2)}:${pad(m, 2)}:${pad(sec, 2)}${frac ? `.${pad(frac, 6)}` : ''}`;
  };
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

/** Objective values are floats in Optuna: Python's repr, NaN as a missing value. */
function floatCell(v: JsonValue | undefined): string {
  if (typeof v !== 'number' && typeof v !== 'bigint') return csvCell(v);
  const n = Number(v);
  if (Number.isNaN(n)) return '';
  return n === Infinity ? 'inf' : n === -Infinity ? '-inf' : pythonFloatRepr(n);
}

/**
 * A params_ column as pandas types it: floats (FloatDistribution, or ints where a trial lacks
 * the param, which makes the column float) as Python's repr, ints as integers, the rest as text.
 */
function paramWriter(trials: readonly Trial[], name: string): (t: Trial) => string {
  const kinds = new Set(trials.map((t) => t.distributions[name]?.name).filter(Boolean));
  const missing = trials.some((t) => t.params[name] === undefined);
  const numeric = [...kinds].every(
    (k) => k === 'FloatDistribution' || k === 'IntDistribution' || k === 'UniformDistribution',
  );
  const asFloat =
    numeric && (missing || kinds.has('FloatDistribution') || kinds.has('UniformDistribution'));
  return (t) => (asFloat ? floatCell(t.params[name]) : csvCell(t.params[name]));
}

function csvCell(v: JsonValue | undefined): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number')
    return Number.isNaN(v)
      ? ''
      : v === Infinity
        ? 'inf'
        : v === -Infinity
          ? '-inf'
          : Number.isInteger(v)
            ? String(v)
            : pythonFloatRepr(v);
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'string') return v;
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  return toStrictJson(v);
}

/**
 * A cell that a spreadsheet would run as a formula (starting with = + - @, or a tab or CR
 * before one) gets a leading apostrophe; numbers (-1.5, -inf, 1e-3) are left as pandas
 * writes them. Study attributes and categorical choices come from whoever wrote the study.
 */
function neutralizeFormula(text: string): string {
  if (!/^[=+\-@\t\r]/.test(text)) return text;
  if (/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$|^[-+]?(inf|nan)$/i.test(text)) return text;
  return `'${text}`;
}

function quoteCsv(cell: string): string {
  const text = neutralizeFormula(cell);
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}
