import { randomBytes } from 'node:crypto';
import type Redis from 'ioredis';

/**
 * Every key the suite writes lives under `optuna-storage-suite:<run id>:`, the run id being
 * `<UTC yyyymmddThhmmssZ>-<6 random chars>`: unique per run, sortable by start time, and
 * recognisable, so that leftovers of an interrupted run can be found (SCAN, never KEYS) and
 * removed without touching anything else.
 */
export const SUITE_ROOT = 'optuna-storage-suite';
const RUN_RE = /^optuna-storage-suite:(\d{8}T\d{6}Z-[a-z0-9]{6}):/;

export function newRunId(now = new Date()): string {
  const stamp = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  const rand = randomBytes(6)
    .toString('base64')
    .replace(/[^a-z0-9]/gi, '')
    .toLowerCase()
    .padEnd(6, '0')
    .slice(0, 6);
  return `${stamp}-${rand}`;
}

export function runPrefix(runId: string): string {
  return `${SUITE_ROOT}:${runId}`;
}

/** The run id of a suite key, or undefined when the key is not the suite's. */
export function runIdOfKey(key: string): string | undefined {
  return RUN_RE.exec(key)?.[1];
}

/** The key whose presence (with a TTL, refreshed while the run lives) marks a run as in progress. */
export function aliveKey(runId: string): string {
  return `${runPrefix(runId)}:alive`;
}

const ALIVE_TTL_MS = 60_000;

/** Marks the run alive now and every 20 s until stopped; another run never cleans up a live one. */
export function startHeartbeat(client: Redis, runId: string): () => void {
  const beat = () =>
    client.set(aliveKey(runId), String(process.pid), 'PX', ALIVE_TTL_MS).catch(() => undefined);
  void beat();
  const t = setInterval(beat, 20_000);
  t.unref();
  return () => clearInterval(t);
}

async function unlinkAll(client: Redis, keys: string[]): Promise<number> {
  let n = 0;
  for (let i = 0; i < keys.length; i += 500) n += await client.unlink(...keys.slice(i, i + 500));
  return n;
}

async function scanKeys(
  client: Redis,
  match: string,
  onKeys: (keys: string[]) => Promise<void> | void,
): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', match, 'COUNT', 5000);
    cursor = next;
    if (keys.length > 0) await onKeys(keys);
  } while (cursor !== '0');
}

export interface LeftoverCleanup {
  prefixes: string[];
  keys: number;
  /** Earlier runs still marked alive: another suite is running, left alone. */
  alive: string[];
}

/**
 * Removes the keys of earlier suite runs that did not clean up after themselves (cancelled
 * hard, crashed, killed): runs older than `currentRunId` whose alive-marker has expired.
 * Only keys matching the suite's run-prefix pattern are ever deleted.
 */
export async function removeLeftovers(
  client: Redis,
  currentRunId: string,
): Promise<LeftoverCleanup> {
  const byRun = new Map<string, string[]>();
  await scanKeys(client, `${SUITE_ROOT}:*`, (keys) => {
    for (const k of keys) {
      const run = runIdOfKey(k);
      if (!run || run >= currentRunId) continue;
      let list = byRun.get(run);
      if (!list) byRun.set(run, (list = []));
      list.push(k);
    }
  });
  const out: LeftoverCleanup = { prefixes: [], keys: 0, alive: [] };
  for (const [run, keys] of [...byRun].sort(([a], [b]) => a.localeCompare(b))) {
    if ((await client.exists(aliveKey(run))) === 1) {
      out.alive.push(runPrefix(run));
      continue;
    }
    out.keys += await unlinkAll(client, keys);
    // Keys of that run written between the SCAN and now (none, unless it is still running).
    await scanKeys(client, `${runPrefix(run)}:*`, async (more) => {
      out.keys += await unlinkAll(client, more);
    });
    out.prefixes.push(runPrefix(run));
  }
  return out;
}

/** Removes every key of one run (its alive-marker last). */
export async function removeRun(client: Redis, runId: string): Promise<number> {
  let n = 0;
  await scanKeys(client, `${runPrefix(runId)}:*`, async (keys) => {
    n += await unlinkAll(
      client,
      keys.filter((k) => k !== aliveKey(runId)),
    );
  });
  await client.unlink(aliveKey(runId));
  return n;
}
