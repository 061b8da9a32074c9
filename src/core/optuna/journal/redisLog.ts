import type Redis from 'ioredis';
import { raceAbort } from '../../abort';

/**
 * The Redis key schema of `JournalRedisStorage` (3.x) / `JournalRedisBackend` (4.x+):
 * `<prefix>:log_number` holds the last index used (writers SETNX it to -1 first, so the first
 * entry is `<prefix>:log:0`), `<prefix>:log:<n>` one record each. Optuna's default prefix is
 * the empty string, giving `:log_number` and `:log:0`.
 */
const LOG_NUMBER_SUFFIX = ':log_number';

export function logNumberKey(prefix: string): string {
  return `${prefix}${LOG_NUMBER_SUFFIX}`;
}

export function logKey(prefix: string, n: number): string {
  return `${prefix}:log:${n}`;
}

/** Optuna's append (use_cluster=False): one atomic EVAL, `ARGV = [prefix, json]`. */
export const APPEND_SCRIPT =
  "local i = redis.call('incr', string.format('%s:log_number', ARGV[1])) " +
  "redis.call('set', string.format('%s:log:%d', ARGV[1], i), ARGV[2])";

/**
 * Optuna's `append_logs`: SETNX the counter to -1, then one atomic append per record, each
 * awaited before the next (what an optimizer does, and what the suite times).
 */
export async function appendJournalRecords(
  redis: Redis,
  prefix: string,
  records: string[],
): Promise<void> {
  await redis.setnx(logNumberKey(prefix), -1);
  for (const r of records) await redis.eval(APPEND_SCRIPT, 0, prefix, r);
}

/**
 * The same appends in one pipeline (one round trip for many records, still one atomic EVAL
 * each, in order); rejects with the first command's error.
 */
export async function appendJournalBatch(
  redis: Redis,
  prefix: string,
  records: string[],
): Promise<void> {
  const pipe = redis.pipeline().setnx(logNumberKey(prefix), -1);
  for (const r of records) pipe.eval(APPEND_SCRIPT, 0, prefix, r);
  const failed = ((await pipe.exec()) ?? []).find(([err]) => err);
  if (failed) throw failed[0];
}

/** Thrown when the keys at a prefix are not an Optuna journal. */
export class ForeignJournalError extends Error {}

/**
 * The journal counter: the index of the last entry, or null when the prefix has no journal.
 * A counter of another type or shape means something else uses the prefix.
 */
export async function readLogNumber(
  redis: Redis,
  prefix: string,
  signal?: AbortSignal,
): Promise<number | null> {
  const key = logNumberKey(prefix);
  let raw: string | null;
  try {
    raw = await raceAbort(redis.get(key), signal);
  } catch (e) {
    if (/WRONGTYPE/.test((e as Error).message)) {
      const type = await redis.type(key).catch(() => 'unknown');
      throw new ForeignJournalError(
        `key "${key}" holds a ${type}, not an Optuna journal counter (a string): ` +
          'this prefix is used by something else',
      );
    }
    throw e;
  }
  if (raw === null) return null;
  if (!/^-?\d+$/.test(raw))
    throw new ForeignJournalError(
      `key "${key}" holds ${JSON.stringify(raw.slice(0, 40))}, not an Optuna journal counter`,
    );
  return Number(raw);
}

/**
 * Every journal prefix on a server: SCAN for `*:log_number`, bounded so a server with
 * millions of keys is not walked forever (`complete` says whether the scan finished).
 */
export async function discoverPrefixes(
  redis: Redis,
  maxScanned = 1_000_000,
  signal?: AbortSignal,
): Promise<{ prefixes: string[]; complete: boolean }> {
  const found = new Set<string>();
  let cursor = '0';
  let scanned = 0;
  do {
    const [nextCursor, keys] = await raceAbort(
      redis.scan(cursor, 'MATCH', `*${LOG_NUMBER_SUFFIX}`, 'COUNT', 1000),
      signal,
    );
    cursor = nextCursor;
    scanned += 1000;
    for (const k of keys) found.add(k.slice(0, -LOG_NUMBER_SUFFIX.length));
    if (scanned >= maxScanned && cursor !== '0')
      return { prefixes: [...found].sort(), complete: false };
  } while (cursor !== '0');
  return { prefixes: [...found].sort(), complete: true };
}
