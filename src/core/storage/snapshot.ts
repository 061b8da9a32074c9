import type { ReadIssue, Study } from '../optuna/model';
import type { JournalReplay } from '../optuna/replay';
import type { ClientOptions } from '../redis/connect';
import type { StudySource } from './studySource';

/** What readOnce returns: a whole storage read once. */
export interface Snapshot {
  studies: Study[];
  /** Gaps and skipped entries: when non-empty the snapshot is not the whole storage. */
  issues: ReadIssue[];
  /** Redis only: no journal under the prefix asked for; the prefixes that have one. */
  noJournal?: { prefixesFound: string[] };
  /**
   * Writes the local replay cache when the read made one worth keeping. Call it after the
   * output is out: the user should not wait for it to see the result.
   */
  saveCache?: () => void;
}

export interface ReadOptions {
  redis?: ClientOptions;
  /** Folder of the local replay cache for Redis journals; none when undefined. */
  cacheDir?: string;
  /** A replay of another kind (e.g. the exact one exports use); the cache is then not used. */
  newReplay?: () => JournalReplay;
  signal?: AbortSignal;
  /**
   * The caller reads only what a study's summary needs (summarizeStudy): an SQLite file's
   * studies then come without their attributes, and their trials without params,
   * intermediate values or attributes. A journal is replayed whole either way.
   */
  summaryOnly?: boolean;
}

/** One read of a source, which is closed after it. */
export async function readClosing(source: StudySource, signal?: AbortSignal): Promise<Snapshot> {
  try {
    await source.refresh(signal);
    return { studies: source.studies(), issues: source.issues() };
  } finally {
    source.close();
  }
}
