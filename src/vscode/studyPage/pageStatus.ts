import * as vscode from 'vscode';
import type { EncoderContext } from '../../core/studyPage/encoder';
import type { StatusMessage } from '../../core/studyPage/protocol';
import type { MergedStudy } from '../../core/storage/mergedView';
import type { StoreService } from '../storeService';

/**
 * What a study page is told about the store its study comes from: the sources, the store's
 * state and whether this window may write (in every message's header), and the banner
 * over the page when the study is missing or read from a fallback.
 */

/** The encoder's context for `study`: its sources, worker names, the store's state. */
export function encoderContext(store: StoreService, study: MergedStudy): EncoderContext {
  const current = store.current;
  const activity = study.prefix !== undefined ? current?.journalActivity(study.prefix) : undefined;
  const st = store.state;
  const sources: string[] = [];
  if (study.redis) sources.push(`Redis ${current?.redisWhere ?? ''}, prefix "${study.prefix}"`);
  if (study.sqlite) sources.push(`SQLite ${store.settings.sqlitePath ?? ''}`);
  return {
    workerOf: activity
      ? (t) =>
          t.source === 'sqlite' ? undefined : activity.workerName(activity.ownerOf(t.trial.trialId))
      : undefined,
    sources,
    store: { state: st.state, detail: st.detail },
    live: st.state === 'redis' || st.state === 'sqlite',
    canWrite: vscode.workspace.isTrusted,
  };
}

/** The banner for the page's study as the store has it now (undefined: none). */
export function statusBanner(
  store: StoreService,
  study: MergedStudy | undefined,
): StatusMessage['banner'] {
  const st = store.state;
  if (!store.loaded) return { kind: 'info', text: 'Loading studies…' };
  if (!study)
    return {
      kind: 'warning',
      text: 'This study is not in the store now (deleted, or its storage is unreachable). The page follows it again when it is back.',
    };
  if (st.state === 'sqlite' && study.redis)
    return {
      kind: 'warning',
      text: `Redis is unreachable: showing the SQLite fallback and what was read from Redis before (${st.detail}). The page goes on when Redis is back.`,
    };
  if (st.state === 'offline')
    return {
      kind: 'error',
      text: `No storage is reachable: showing what was read last (${st.detail}).`,
    };
  return undefined;
}
