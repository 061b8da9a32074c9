import type Redis from 'ioredis';
import type { Study } from '../optuna/model';
import type { JsonValue } from '../optuna/pythonJsonParse';
import type { ConnectionSettings } from '../redis/connect';
import { logKey } from '../optuna/journal/redisLog';
import { RedisJournalReader } from '../storage/redisJournalReader';
import type { DisposableRedis } from './disposableRedis';
import type { CompanionPython } from '../python/companion';
import type { Check, MetricValue, ScenarioId, ScenarioStatus } from './types';

/** Options with every default filled in. */
export interface ResolvedOptions {
  jobs: number;
  trials: number;
  singleStudyTrials: number;
  concurrentStudies: number;
  concurrentTrials: number;
  connectAttempts: number;
  pings: number;
  outageMs: number;
  appendRetryMs: number;
  keepData: boolean;
}

/** What a scenario gets from the runner. */
export interface ScenarioContext {
  id: ScenarioId;
  runId: string;
  options: ResolvedOptions;
  signal: AbortSignal;
  log(line: string): void;
  /** The journal prefix of this scenario: `<run prefix>:<scenario id>`. */
  prefix: string;
  /** The server under test. `client` is the suite's own connection (reads, INFO). */
  user: {
    url: string;
    password?: string;
    settings?: Partial<ConnectionSettings>;
    where: string;
    client: Redis;
    /** An error of `client` in words a user can act on (the cause, not ioredis' "Connection is closed."). */
    explain(e: unknown): string;
  };
  /** The SQLite fallback the failover store serves: the user's file (read-only) or the scratch one. */
  fallback: { path: string; scratch: boolean };
  /** Starts a disposable redis-server with the user's settings; throws SkipScenario when there is no binary. */
  startDisposable(): Promise<DisposableRedis>;
  /** The Python companion to start real writers with, or why there is none (found once per run). */
  companion(): Promise<CompanionPython | string>;
  /** The run's private temp folder (removed at the end). */
  tempDir: string;
}

export interface ScenarioOutcome {
  status: ScenarioStatus;
  message: string;
  metrics: Record<string, MetricValue>;
  checks: Check[];
  server?: 'user' | 'disposable';
  prefix?: string;
}

/** A scenario that cannot run here (e.g. no redis-server binary): reported as skipped, with the reason. */
export class SkipScenario extends Error {}

export type Scenario = (ctx: ScenarioContext) => Promise<ScenarioOutcome>;

/** Passed when every check holds and nothing else went wrong; otherwise the problems, or the broken promises. */
export function verdict(
  checks: Check[],
  problems: string[],
  headline: string,
): { status: ScenarioStatus; message: string } {
  const failed = checks.filter((c) => !c.ok);
  if (problems.length === 0 && failed.length === 0) return { status: 'passed', message: headline };
  // The problems say what went wrong; a broken promise alone is worded from its check.
  const parts =
    problems.length > 0
      ? [...new Set(problems)]
      : failed.map(
          (c) => `${c.label}: measured ${c.measured ?? 'nothing'}, promised ${c.promised}`,
        );
  return { status: 'failed', message: parts.join('; ') };
}

/** A fresh, complete read of a journal with the project's reader, timed; `gaps` are the keys of the missing entries. */
export async function readBack(
  client: Redis,
  prefix: string,
): Promise<{
  studies: Study[];
  gaps: string[];
  issues: string[];
  entries: number;
  readMs: number;
}> {
  const t0 = performance.now();
  const reader = new RedisJournalReader(client, prefix);
  const res = await reader.refresh();
  const readMs = performance.now() - t0;
  // Each missing key by name (a run of them is one issue); a suite prefix has few at most.
  const gaps = reader.replay.issues
    .filter((i) => i.kind === 'gap')
    .flatMap((i) =>
      Array.from({ length: Math.min(i.count ?? 1, 10_000) }, (_, k) => logKey(prefix, i.index + k)),
    );
  const issues = reader.replay.issues.filter((i) => i.kind !== 'gap').map((i) => i.message);
  return { studies: reader.replay.allStudies(), gaps, issues, entries: res.entries, readMs };
}

/** "3 journal entries missing (evicted or deleted), e.g. <key>" for the gap keys of `readBack`; undefined when there are none. */
export function missingEntriesProblem(gapKeys: string[]): string | undefined {
  if (gapKeys.length === 0) return undefined;
  return `${plural(gapKeys.length, 'journal entry', 'journal entries')} missing (evicted or deleted), e.g. ${gapKeys[0]}`;
}

/** `evicted_keys` and the eviction policy of a server, for explaining missing entries. */
export async function evictionInfo(client: Redis): Promise<{ evicted?: number; policy?: string }> {
  const out: { evicted?: number; policy?: string } = {};
  try {
    const m = /evicted_keys:(\d+)/.exec(await client.info('stats'));
    if (m) out.evicted = Number(m[1]);
  } catch {
    // INFO not allowed
  }
  try {
    const r = (await client.config('GET', 'maxmemory-policy')) as string[];
    if (r[1]) out.policy = r[1];
  } catch {
    // CONFIG not allowed
  }
  return out;
}

/** Why entries went missing, when the server says it evicted keys meanwhile. */
export function evictionNote(
  before: { evicted?: number },
  after: { evicted?: number; policy?: string },
): string | undefined {
  if (before.evicted === undefined || after.evicted === undefined) return undefined;
  const n = after.evicted - before.evicted;
  if (n <= 0) return undefined;
  return `the server evicted ${n} key${n === 1 ? '' : 's'} meanwhile (maxmemory-policy ${after.policy ?? 'unknown'}): an Optuna journal needs maxmemory-policy noeviction and enough maxmemory`;
}

/** When something went wrong, adds why entries may have gone missing: the keys the server evicted since `before`. */
export async function addEvictionNote(
  problems: string[],
  client: Redis,
  before: { evicted?: number },
): Promise<void> {
  if (problems.length === 0) return;
  const note = evictionNote(before, await evictionInfo(client).catch(() => ({})));
  if (note) problems.push(note);
}

/** Structural equality of JSON values: ints compare equal as number or bigint, -0 ≠ 0, NaN = NaN. */
export function sameJson(a: JsonValue | undefined, b: JsonValue | undefined): boolean {
  if (typeof a === 'bigint' || typeof b === 'bigint') {
    try {
      return BigInt(a as never) === BigInt(b as never);
    } catch {
      return false;
    }
  }
  if (typeof a === 'number' && typeof b === 'number') return Object.is(a, b);
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return a === b;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as JsonValue[];
    return a.length === bb.length && a.every((x, i) => sameJson(x, bb[i]));
  }
  const ka = Object.keys(a);
  const bo = b as Record<string, JsonValue>;
  if (ka.length !== Object.keys(bo).length) return false;
  return ka.every((k) => k in bo && sameJson((a as Record<string, JsonValue>)[k], bo[k]));
}

export function plural(n: number, word: string, many = `${word}s`): string {
  return `${n} ${n === 1 ? word : many}`;
}

export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
