import type Redis from 'ioredis';
import type { Finding, LiveFix } from './doctorRules';
import { waitForPersistence } from './backup';
import { parseInfo } from './info';

/**
 * The only settings doctor changes on a live server, and only to these values: each makes
 * Redis keep more data, none drops a client, a key or a file.
 */
const SAFE: Record<string, string[]> = {
  'maxmemory-policy': ['noeviction'],
  appendfsync: ['everysec'],
  appendonly: ['yes'],
};
/** Apply order: stop evicting first; set the fsync policy before the AOF is opened. */
const ORDER = ['maxmemory-policy', 'appendfsync', 'appendonly'];

export interface FixOutcome {
  /** Finding ids this change repairs. */
  ids: string[];
  command: string;
  ok: boolean;
  error?: string;
}

export interface FixResult {
  applied: FixOutcome[];
  /** CONFIG REWRITE of the server's config file; absent when the server has none. */
  rewrite?: { file: string; ok: boolean; error?: string };
}

/** The changes `applyLiveFixes` would make for these findings, in order. */
export function plannedFixes(findings: Finding[]): Array<LiveFix & { ids: string[] }> {
  const byParam = new Map<string, LiveFix & { ids: string[] }>();
  for (const f of findings) {
    for (const fix of f.liveFix ?? []) {
      if (!SAFE[fix.parameter]?.includes(fix.value)) continue;
      const prev = byParam.get(fix.parameter);
      if (prev) prev.ids.push(f.id);
      else byParam.set(fix.parameter, { ...fix, ids: [f.id] });
    }
  }
  return ORDER.filter((p) => byParam.has(p)).map((p) => byParam.get(p)!);
}

export interface ApplyOptions {
  /** How long to wait for the AOF to be written after `appendonly yes` (default 5 min). */
  timeoutMs?: number;
  signal?: AbortSignal;
  onProgress?: (message: string) => void;
}

/**
 * Applies the safe fixes with CONFIG SET, waits until a newly enabled AOF has been written
 * completely, then persists the settings with CONFIG REWRITE when the server was started
 * from a config file (otherwise the next restart would undo them).
 */
export async function applyLiveFixes(
  redis: Redis,
  findings: Finding[],
  opts: ApplyOptions = {},
): Promise<FixResult> {
  const result: FixResult = { applied: [] };
  for (const fix of plannedFixes(findings)) {
    const command = `CONFIG SET ${fix.parameter} ${fix.value}`;
    opts.onProgress?.(command);
    try {
      await redis.call('CONFIG', 'SET', fix.parameter, fix.value);
      if (fix.parameter === 'appendonly') await waitForAofRewrite(redis, opts);
      result.applied.push({ ids: fix.ids, command, ok: true });
    } catch (e) {
      result.applied.push({ ids: fix.ids, command, ok: false, error: (e as Error).message });
    }
  }
  if (result.applied.some((a) => a.ok)) {
    const file = parseInfo(await redis.info('server')).get('config_file') ?? '';
    if (file !== '') {
      opts.onProgress?.(`CONFIG REWRITE (${file})`);
      try {
        await redis.call('CONFIG', 'REWRITE');
        result.rewrite = { file, ok: true };
      } catch (e) {
        result.rewrite = { file, ok: false, error: (e as Error).message };
      }
    }
  }
  return result;
}

/** Waits until no AOF rewrite is running or scheduled; throws if the last one failed. */
export async function waitForAofRewrite(redis: Redis, opts: ApplyOptions = {}): Promise<void> {
  const deadline = Date.now() + (opts.timeoutMs ?? 300_000);
  const info = await waitForPersistence(
    redis,
    (i) => i.get('aof_rewrite_in_progress') === '0' && i.get('aof_rewrite_scheduled') === '0',
    'the append-only file rewrite to finish',
    { deadline, signal: opts.signal },
  );
  const status = info.get('aof_last_bgrewrite_status');
  if (status !== 'ok')
    throw new Error(
      `the append-only file rewrite failed (aof_last_bgrewrite_status:${status}); see the Redis log`,
    );
}
