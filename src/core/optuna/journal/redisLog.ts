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

/** What every entry key of a prefix starts with: `<prefix>:log:`, then the entry's index. */
export function logKeyHead(prefix: string): string {
  return `${prefix}:log:`;
}

export function logKey(prefix: string, n: number): string {
  return `${logKeyHead(prefix)}${n}`;
}

/**
 * Where a process of the Python companion keeps its status while it writes to Redis
 * (python/enhanced_redis_storage/status.py, `status_key`): `<prefix>:enhanced:status:<writer
 * id>`, beside the companion's other keys under `<prefix>:enhanced:`, holding the JSON of its
 * status file with a TTL of a few heartbeats. Never ends in `:log_number`, so prefix discovery
 * does not mistake it for a journal.
 */
const WRITER_STATUS_INFIX = ':enhanced:status:';

/** SCAN pattern for every writer status key, of every prefix. */
export const WRITER_STATUS_PATTERN = `*${WRITER_STATUS_INFIX}*`;

/** The prefix and writer id of a writer status key; undefined for any other key. */
export function parseWriterStatusKey(
  key: string,
): { prefix: string; writerId: string } | undefined {
  const at = key.lastIndexOf(WRITER_STATUS_INFIX);
  const writerId = at < 0 ? '' : key.slice(at + WRITER_STATUS_INFIX.length);
  return /^[0-9a-f]+$/.test(writerId) ? { prefix: key.slice(0, at), writerId } : undefined;
}

/** Optuna's append (use_cluster=False): one atomic EVAL, `ARGV = [prefix, json]`. */
export const APPEND_SCRIPT =
  "local i = redis.call('incr', string.format('%s:log_number', ARGV[1])) " +
  "redis.call('set', string.format('%s:log:%d', ARGV[1], i), ARGV[2])";

/**
 * Optuna's `append_logs`: SETNX the counter to -1, then one atomic append per record, each
 * awaited before the next (what an optimizer does, and what the suite times). For stand-ins
 * of Optuna workers only (the stability suite on its own prefixes, tests, benchmarks): a
 * command that writes into a user's journal uses appendToJournal, which follows the
 * writers' rule.
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
 * each, in order); rejects with the first command's error. Stand-ins only, as above.
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

/**
 * Our writers' append: Optuna's INCR-then-SET (same keys, same ARGV), refused inside the same
 * atomic script when the counter is gone or the entry it would write already exists.
 */
const GUARDED_APPEND_SCRIPT = `
local counter = string.format('%s:log_number', ARGV[1])
local n = redis.call('get', counter)
if not n then return redis.error_reply('OSM_NO_COUNTER') end
local next = string.format('%s:log:%d', ARGV[1], tonumber(n) + 1)
if redis.call('exists', next) == 1 then return redis.error_reply('OSM_ENTRY_EXISTS ' .. next) end
local i = redis.call('incr', counter)
redis.call('set', string.format('%s:log:%d', ARGV[1], i), ARGV[2])
return i`;

/**
 * Refused: appending to this prefix would overwrite journal entries. Says what was found and
 * how to repair it.
 */
export class UnsafeJournalError extends Error {
  constructor(
    message: string,
    readonly prefix: string,
  ) {
    super(message);
  }
}

/** A glob pattern matching `text` literally (SCAN MATCH). */
export function globLiteral(text: string): string {
  return text.replace(/[\\*?[\]]/g, '\\$&');
}

/**
 * The journal entries `<prefix>:log:<n>` present (SCAN of the whole keyspace, no values read):
 * how many and the highest n. Used only when the counter is missing, to tell an empty prefix
 * from one whose counter vanished.
 */
async function presentEntries(
  redis: Redis,
  prefix: string,
): Promise<{ count: number; max: number }> {
  const pattern = `${globLiteral(prefix)}:log:*`;
  const head = logKeyHead(prefix);
  let count = 0;
  let max = -1;
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    for (const k of keys) {
      const n = k.slice(head.length);
      if (!/^(0|[1-9]\d*)$/.test(n)) continue;
      count++;
      max = Math.max(max, Number(n));
    }
  } while (cursor !== '0');
  return { count, max };
}

function orphanedMessage(prefix: string, found: { count: number; max: number }): string {
  const counter = logNumberKey(prefix);
  return (
    `the journal under prefix ${JSON.stringify(prefix)} has ${found.count} entries ` +
    `(${logKey(prefix, 0)} … ${logKey(prefix, found.max)}) but no counter key ${JSON.stringify(counter)}: ` +
    `it was evicted or deleted. Writing now would overwrite ${logKey(prefix, 0)} onwards (Optuna's workers would too). ` +
    `To repair: stop the workers of this prefix, check the gaps with "optuna-storage doctor --redis URL", ` +
    `then restore the counter to the highest entry: redis-cli SET ${JSON.stringify(counter)} ${found.max} ` +
    `(and set maxmemory-policy noeviction so it does not happen again)`
  );
}

/**
 * The rule every writer of a Redis journal follows before its first append (import, delete
 * study, reconcile; the Python failover storage mirrors it):
 *   - the counter `<prefix>:log_number` exists: append;
 *   - it is missing and no `<prefix>:log:<n>` exists: a new journal, create the counter as
 *     Optuna does (SETNX -1);
 *   - it is missing but entries exist (eviction or a manual DEL took the counter): refuse,
 *     saying how to repair it. Optuna's own append would INCR a fresh counter to 0 and
 *     overwrite `<prefix>:log:0`, then every entry after it.
 * Each append then re-checks atomically (GUARDED_APPEND_SCRIPT): the counter still exists and
 * the entry it would write does not (a counter behind its entries, e.g. restored from an
 * older snapshot, must not overwrite them either).
 */
export async function ensureJournalCounter(redis: Redis, prefix: string): Promise<void> {
  if ((await redis.exists(logNumberKey(prefix))) === 1) return;
  const found = await presentEntries(redis, prefix);
  if (found.count > 0) throw new UnsafeJournalError(orphanedMessage(prefix, found), prefix);
  await redis.setnx(logNumberKey(prefix), -1);
}

/** Turns the guarded script's refusals into UnsafeJournalError; other errors pass unchanged. */
export async function explainAppendError(
  redis: Redis,
  prefix: string,
  e: unknown,
): Promise<unknown> {
  const msg = e instanceof Error ? e.message : String(e);
  if (/OSM_NO_COUNTER/.test(msg))
    return new UnsafeJournalError(
      orphanedMessage(prefix, await presentEntries(redis, prefix)),
      prefix,
    );
  const exists = /OSM_ENTRY_EXISTS (.*)$/.exec(msg);
  if (exists)
    return new UnsafeJournalError(
      `the counter ${JSON.stringify(logNumberKey(prefix))} is behind its entries: ${JSON.stringify(exists[1])} already exists, and writing would overwrite it. ` +
        `To repair: stop the workers of this prefix and set the counter to the highest entry (redis-cli SET ${JSON.stringify(logNumberKey(prefix))} <highest n of ${prefix}:log:n>)`,
      prefix,
    );
  return e;
}

/**
 * Appends records to a user's journal (import, delete study, reconcile): Optuna's keys and
 * counter, under the writers' rule (ensureJournalCounter), `batch` records per pipeline;
 * `onBatch` reports progress and may throw to stop (cancellation).
 */
export async function appendToJournal(
  redis: Redis,
  prefix: string,
  records: string[],
  opts: { batch?: number; onBatch?: (appended: number) => void } = {},
): Promise<void> {
  await ensureJournalCounter(redis, prefix);
  const batch = opts.batch ?? 1000;
  for (let i = 0; i < records.length; i += batch) {
    const pipe = redis.pipeline();
    for (const r of records.slice(i, i + batch)) pipe.eval(GUARDED_APPEND_SCRIPT, 0, prefix, r);
    const results = (await pipe.exec()) ?? [];
    const failed = results.find(([err]) => err);
    if (failed) throw await explainAppendError(redis, prefix, failed[0]);
    opts.onBatch?.(Math.min(i + batch, records.length));
  }
}

/**
 * The smallest n >= from such that `<prefix>:log:<n>` exists, or undefined (one SCAN of the
 * keyspace: work bounded by the keys that exist, not by what a counter claims).
 */
export async function nextEntryIndex(
  redis: Redis,
  prefix: string,
  from: number,
  signal?: AbortSignal,
): Promise<number | undefined> {
  const head = logKeyHead(prefix);
  let best: number | undefined;
  let cursor = '0';
  do {
    const [next, keys] = await raceAbort(
      redis.scan(cursor, 'MATCH', `${globLiteral(prefix)}:log:*`, 'COUNT', 1000),
      signal,
    );
    cursor = next;
    for (const k of keys) {
      const tail = k.slice(head.length);
      if (!/^(0|[1-9]\d*)$/.test(tail)) continue;
      const n = Number(tail);
      if (n >= from && (best === undefined || n < best)) best = n;
    }
  } while (cursor !== '0');
  return best;
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
