import { normalizeDatetime } from './model';

/**
 * Trial datetimes as numbers: microseconds since 1970-01-01T00:00:00 of the naive wall time
 * (as if it were UTC), which read back to exactly the text they came from. A number costs 8
 * bytes where the text costs ~50, and compares without parsing. Datetimes with an offset, or
 * outside what a double holds to the microsecond, are not numbers (NaN): keep their text.
 */

const D0 = 48; // '0'

function digits(s: string, from: number, n: number): number {
  let v = 0;
  for (let i = from; i < from + n; i++) {
    const d = s.charCodeAt(i) - D0;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
  }
  return v;
}

const DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const isLeap = (y: number) => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;

/** Days from 1970-01-01 to y-m-d (proleptic Gregorian; H. Hinnant's days_from_civil). */
function daysFromCivil(y: number, m: number, d: number): number {
  y -= m <= 2 ? 1 : 0;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

/**
 * The micros of a datetime in `normalizeDatetime`'s form (or with a space for the 'T'), NaN
 * when it has an offset or is not a valid naive datetime of years 1000–9999.
 */
function microsOfNormalized(s: string): number {
  if (s.length !== 26) return NaN;
  if (
    s.charCodeAt(4) !== 45 || // -
    s.charCodeAt(7) !== 45 ||
    (s.charCodeAt(10) !== 84 && s.charCodeAt(10) !== 32) || // T, or the space SQLite stores
    s.charCodeAt(13) !== 58 || // :
    s.charCodeAt(16) !== 58 ||
    s.charCodeAt(19) !== 46 // .
  )
    return NaN;
  const y = digits(s, 0, 4);
  const mo = digits(s, 5, 2);
  const d = digits(s, 8, 2);
  const h = digits(s, 11, 2);
  const mi = digits(s, 14, 2);
  const sec = digits(s, 17, 2);
  const us = digits(s, 20, 6);
  if (y < 1000 || mo < 1 || mo > 12 || d < 1 || h < 0 || h > 23 || mi < 0 || mi > 59) return NaN;
  if (sec < 0 || sec > 59 || us < 0) return NaN;
  if (d > (mo === 2 && isLeap(y) ? 29 : DAYS[mo - 1])) return NaN;
  const micros = ((daysFromCivil(y, mo, d) * 24 + h) * 60 + mi) * 60e6 + sec * 1e6 + us;
  return Number.isSafeInteger(micros) ? micros : NaN;
}

/**
 * A stored datetime text as micros (fast path for the form Optuna writes), or NaN when it has
 * to stay text; throws, as `normalizeDatetime` does, on text that is not a datetime.
 */
export function datetimeMicros(text: string): number {
  const fast = microsOfNormalized(text);
  return Number.isNaN(fast) ? microsOfNormalized(normalizeDatetime(text)!) : fast;
}

const P2 = Array.from({ length: 100 }, (_, i) => (i < 10 ? `0${i}` : String(i)));

/** The date part of formatMicros' last text, and its day: a study's trials share few days. */
let lastDay = NaN;
let lastDate = '';

/** The text of `datetimeMicros`' result: `YYYY-MM-DDTHH:MM:SS.ffffff`. */
export function formatMicros(micros: number): string {
  const days = Math.floor(micros / 86400e6);
  if (days !== lastDay) {
    lastDate = dateOfDays(days);
    lastDay = days;
  }
  let rest = micros - days * 86400e6;
  const h = Math.floor(rest / 3600e6);
  rest -= h * 3600e6;
  const mi = Math.floor(rest / 60e6);
  rest -= mi * 60e6;
  const sec = Math.floor(rest / 1e6);
  const us = rest - sec * 1e6;
  const frac = us >= 100000 ? String(us) : String(us).padStart(6, '0');
  return `${lastDate}T${P2[h]}:${P2[mi]}:${P2[sec]}.${frac}`;
}

/** `YYYY-MM-DD` of a day counted from 1970-01-01 (H. Hinnant's civil_from_days). */
function dateOfDays(days: number): string {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor(
    (doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365,
  );
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const mo = mp < 10 ? mp + 3 : mp - 9;
  const y = yoe + era * 400 + (mo <= 2 ? 1 : 0);
  return `${y}-${P2[mo]}-${P2[d]}`;
}

/**
 * A stored datetime in the form a TrialTable keeps it: micros, or the normalized text when it
 * cannot be a number (an offset), or null; throws on text that is not a datetime.
 */
export function storedDatetime(text: string | null): number | string | null {
  if (text === null) return null;
  const micros = datetimeMicros(text);
  return Number.isNaN(micros) ? normalizeDatetime(text) : micros;
}
