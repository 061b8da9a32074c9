import type { JournalActivity } from '../optuna/activity';
import type { ReadIssue, Study } from '../optuna/model';
import type { SourceStatus } from './storeState';

/** What one refresh of a source read. */
export interface SourceRefresh {
  /** Journal entries read by this refresh (0 for an SQLite file). */
  entries: number;
  /** The studies may differ from before: something was read, or the source started over. */
  changed: boolean;
  /** Milliseconds spent waiting for the server's replies, and replaying what they held. */
  waitMs?: number;
  replayMs?: number;
}

/** A journal's refresh also says whether the journal was replaced and read from the start. */
export interface JournalRefresh extends SourceRefresh {
  reset: boolean;
}

/**
 * One place studies are read from: a Redis journal prefix, a journal file or an SQLite file.
 * `refresh` reads what is new (incrementally where the storage allows) and rejects with the
 * signal's reason once it aborts; `studies` and `issues` describe everything read so far.
 */
export interface StudySource {
  /** Where the studies come from, for messages (never with a password). */
  readonly label: string;
  refresh(signal?: AbortSignal): Promise<SourceRefresh>;
  /** Live studies, ascending by id, each with its trials by number. */
  studies(): Study[];
  /** Entries that could not be read (gaps, malformed or refused records). */
  issues(): ReadIssue[];
  /** A cheap check (no read): e.g. a fallback file that does not exist yet. */
  status(): SourceStatus;
  close(): void;
}

/** A journal (Redis prefix or file): also who wrote what, for the stale-trial classifier. */
export interface JournalSource extends StudySource {
  activity(): JournalActivity;
  /**
   * Writes the source's local replay cache when enough was read since it was last written;
   * never part of `refresh` (the store calls it after the new data was shown).
   */
  saveCacheIfDue?(): void;
  /** While a refresh runs: the entries it replayed so far, of those it reads. */
  progress?(): { read: number; total: number } | undefined;
}
