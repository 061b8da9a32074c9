import * as fs from 'node:fs';
import * as path from 'node:path';
import type Redis from 'ioredis';
import { trialToJson } from '../optuna/dumpFormat';
import { copyStudyContents, copyStudyRecords } from '../optuna/journal/copyStudy';
import { JournalRecords, PROCESS_WORKER_ID } from '../optuna/journal/records';
import { appendToJournal } from '../optuna/journal/redisLog';
import type { ReadIssue, Study } from '../optuna/model';
import { type JsonValue } from '../optuna/pythonJsonParse';
import { toStrictJson } from '../optuna/strictJson';
import type { ClientOptions } from '../redis/connect';
import { deleteJournalStudy } from './deleteStudy';
import { readExact } from './exactRead';
import { RedisJournalReader } from './redisJournalReader';
import { writeStudySqlite } from './sqliteExport';
import { type StorageSpec, parseStorageSpec } from './storageSpec';

/** Refused for a reason the user can fix (existing target, unknown study, incomplete source). */
export class TransferError extends Error {}

export interface TransferProgress {
  phase: 'read' | 'write' | 'verify';
  message: string;
}

export type ExportFormat = 'journal' | 'sqlite';

/** `.log` is an Optuna journal file, `.db`/`.sqlite`/`.sqlite3` an Optuna SQLite database. */
export function exportFormat(file: string): ExportFormat {
  if (/\.log$/i.test(file)) return 'journal';
  if (/\.(db|sqlite|sqlite3)$/i.test(file)) return 'sqlite';
  throw new TransferError(
    `cannot tell the format of ${file}: name it .log (Optuna journal file) or .db (Optuna SQLite)`,
  );
}

/**
 * What must survive a copy, per study: name, directions, attributes and each trial's number,
 * state, values, params, distributions, intermediate values, attributes and datetimes. Ids are
 * not part of it (the copy gets its own). SQLite cannot keep a -0.0 (REAL stores it as 0) or a
 * datetime's offset (SQLAlchemy drops it), so `sqlite` compares those as SQLite keeps them.
 */
export function studyDifference(a: Study, b: Study, sqlite = false): string | null {
  const norm = (v: JsonValue): JsonValue => {
    if (!sqlite) return v;
    if (typeof v === 'number') return Object.is(v, -0) ? 0 : v;
    if (typeof v === 'string')
      return /^\d{4}-\d{2}-\d{2}T[\d:.]+([+-]\d{2}:\d{2})$/.test(v) ? v.slice(0, -6) : v;
    if (Array.isArray(v)) return v.map(norm);
    if (v !== null && typeof v === 'object')
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, norm(x)]));
    return v;
  };
  const text = (v: JsonValue) => toStrictJson(sortKeys(norm(v)));
  for (const [field, x, y] of [
    ['name', a.name, b.name],
    ['directions', a.directions, b.directions],
    ['user attributes', a.userAttrs, b.userAttrs],
    ['system attributes', a.systemAttrs, b.systemAttrs],
  ] as const) {
    if (text(x as JsonValue) !== text(y as JsonValue)) return `study ${field} differ`;
  }
  if (a.trials.length !== b.trials.length)
    return `${a.trials.length} trials in the source, ${b.trials.length} in the copy`;
  for (let i = 0; i < a.trials.length; i++) {
    const ta = trialToJson(a.trials[i]);
    const tb = trialToJson(b.trials[i]);
    for (const k of Object.keys(ta)) {
      if (k === 'trial_id') continue;
      if (text(ta[k]) !== text(tb[k])) return `trial #${a.trials[i].number}: ${k} differs`;
    }
  }
  return null;
}

/** Dict key order is not content (Python compares dicts without it). */
function sortKeys(v: JsonValue): JsonValue {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v !== null && typeof v === 'object')
    return Object.fromEntries(
      Object.keys(v)
        .sort()
        .map((k) => [k, sortKeys(v[k])]),
    );
  return v;
}

function describeIssues(issues: ReadIssue[]): string {
  return (
    issues
      .slice(0, 5)
      .map((i) => `  ${i.message}`)
      .join('\n') + (issues.length > 5 ? `\n  … and ${issues.length - 5} more` : '')
  );
}

function pickStudy(studies: Study[], name: string | undefined, where: string): Study {
  if (name === undefined) {
    if (studies.length === 1) return studies[0];
    throw new TransferError(
      `${where} holds ${studies.length} studies: name one with --study (${studies.map((s) => JSON.stringify(s.name)).join(', ') || 'none'})`,
    );
  }
  const s = studies.find((x) => x.name === name);
  if (!s)
    throw new TransferError(
      `no study named ${JSON.stringify(name)} in ${where} (studies: ${studies.map((x) => JSON.stringify(x.name)).join(', ') || 'none'})`,
    );
  return s;
}

export interface ExportOptions {
  source: StorageSpec;
  /** Shown in messages instead of the source (no password). */
  sourceLabel: string;
  study: string;
  to: string;
  /** Export what is readable even when journal entries are missing or unreadable. */
  partial?: boolean;
  redis?: ClientOptions;
  signal?: AbortSignal;
  onProgress?: (p: TransferProgress) => void;
}

export interface ExportResult {
  format: ExportFormat;
  path: string;
  trials: number;
  /** Entries of the source that could not be read (only with `partial`). */
  issues: ReadIssue[];
}

/**
 * Writes one study as a new Optuna journal file (the records `optuna.copy_study` would write,
 * one per line) or a new Optuna 3.1 SQLite database, then reads the file back and checks that
 * it holds the same study. Never overwrites: the target must not exist.
 */
export async function exportStudy(o: ExportOptions): Promise<ExportResult> {
  const format = exportFormat(o.to);
  if (fs.existsSync(o.to))
    throw new TransferError(
      `${o.to} already exists: export writes a new file and never overwrites one`,
    );
  o.onProgress?.({ phase: 'read', message: `reading ${o.sourceLabel}` });
  const snap = await readExact(o.source, { redis: o.redis, signal: o.signal });
  if (snap.issues.length > 0 && !o.partial) {
    throw new TransferError(
      `${o.sourceLabel} is incomplete (${snap.issues.length} entries could not be read), so nothing was exported:\n${describeIssues(snap.issues)}\nWith --partial the readable part is exported.`,
    );
  }
  const study = pickStudy(snap.studies, o.study, o.sourceLabel);
  o.onProgress?.({ phase: 'write', message: `writing ${study.trials.length} trials to ${o.to}` });
  if (format === 'journal') writeJournalFile(o.to, copyStudyRecords(study, 0, PROCESS_WORKER_ID));
  else writeStudySqlite(study, o.to);

  o.onProgress?.({ phase: 'verify', message: `reading ${o.to} back` });
  const back = await readExact(parseStorageSpec(o.to));
  const copy = back.studies.find((s) => s.name === study.name);
  const diff =
    back.issues.length > 0
      ? `${back.issues.length} unreadable entries`
      : copy
        ? studyDifference(study, copy, format === 'sqlite')
        : 'the study is missing';
  if (diff)
    throw new Error(
      `the exported ${o.to} does not read back as the same study (${diff}); it was left for inspection`,
    );
  return { format, path: o.to, trials: study.trials.length, issues: snap.issues };
}

/** A new journal file, complete or absent: written aside, fsynced, then renamed into place. */
function writeJournalFile(target: string, records: string[]): void {
  const tmp = path.join(path.dirname(target), `.${path.basename(target)}.tmp-${process.pid}`);
  const fd = fs.openSync(tmp, 'wx', 0o644);
  try {
    const chunk = 10_000;
    for (let i = 0; i < records.length; i += chunk)
      fs.writeSync(fd, records.slice(i, i + chunk).join('\n') + '\n');
    fs.fsyncSync(fd);
  } catch (e) {
    fs.closeSync(fd);
    fs.rmSync(tmp, { force: true });
    throw e;
  }
  fs.closeSync(fd);
  fs.renameSync(tmp, target);
}

export interface ImportOptions {
  source: StorageSpec;
  sourceLabel: string;
  /** The study to import; may be omitted when the source holds one. */
  study?: string;
  redis: Redis;
  prefix: string;
  signal?: AbortSignal;
  onProgress?: (p: TransferProgress) => void;
}

export interface ImportResult {
  studyName: string;
  /** The study's id in the target prefix. */
  studyId: number;
  trials: number;
  /** Journal entries appended. */
  records: number;
}

/** Records appended per pipeline: few round trips, bounded memory. */
const APPEND_BATCH = 1000;

/**
 * Appends one study to a Redis journal prefix with Optuna's own atomic append (so Optuna
 * workers may be writing there meanwhile), refusing when a study of that name already lives
 * there; then reads the prefix back and checks that the study equals the source. An import
 * that fails half-way deletes its partial study (a DELETE_STUDY record, as Optuna does).
 */
export async function importStudy(o: ImportOptions): Promise<ImportResult> {
  o.onProgress?.({ phase: 'read', message: `reading ${o.sourceLabel}` });
  const snap = await readExact(o.source, { signal: o.signal });
  if (snap.issues.length > 0)
    throw new TransferError(
      `${o.sourceLabel} has ${snap.issues.length} unreadable entries, so nothing was imported:\n${describeIssues(snap.issues)}`,
    );
  const study = pickStudy(snap.studies, o.study, o.sourceLabel);
  const where = `Redis prefix ${JSON.stringify(o.prefix)}`;

  const reader = new RedisJournalReader(o.redis, o.prefix);
  await reader.refresh(o.signal);
  if (reader.replay.issues.length > 0)
    throw new TransferError(
      `${where} already has ${reader.replay.issues.length} missing or unreadable entries (see optuna-storage doctor); import into a healthy prefix`,
    );
  const clash = reader.replay.allStudies().find((s) => s.name === study.name);
  if (clash)
    throw new TransferError(
      `${where} already has a study named ${JSON.stringify(study.name)} (study_id ${clash.studyId}, ${clash.trials.length} trials): nothing was imported. Import into another --prefix, or delete that study first.`,
    );

  const before = new Set(reader.replay.studies.keys());
  o.onProgress?.({
    phase: 'write',
    message: `creating study ${JSON.stringify(study.name)} in ${where}`,
  });
  const writer = new JournalRecords(PROCESS_WORKER_ID);
  await appendToJournal(o.redis, o.prefix, [writer.createStudy(study.name, study.directions)]);
  // Not cancellable: the study now exists, and only finding its id lets a cancel delete it.
  await reader.refresh();
  const created = reader.replay
    .allStudies()
    .find((s) => s.name === study.name && !before.has(s.studyId));
  if (!created)
    throw new TransferError(
      `another writer created a study named ${JSON.stringify(study.name)} in ${where} at the same moment: nothing more was imported`,
    );

  const records = copyStudyContents(study, created.studyId, writer);
  try {
    await appendToJournal(o.redis, o.prefix, records, {
      batch: APPEND_BATCH,
      onBatch: (appended) => {
        o.onProgress?.({
          phase: 'write',
          message: `appended ${appended} of ${records.length} records`,
        });
        if (o.signal?.aborted) throw o.signal.reason ?? new Error('aborted');
      },
    });
    o.onProgress?.({ phase: 'verify', message: `reading ${where} back` });
    await reader.refresh(o.signal);
    const copy = reader.replay.studies.get(created.studyId);
    const diff = copy ? studyDifference(study, copy) : 'the study is gone';
    if (diff) throw new Error(`the imported study does not read back as the source (${diff})`);
  } catch (e) {
    const cleaned = await deleteJournalStudy(o.redis, o.prefix, created.studyId).then(
      () => 'its partial copy was deleted (a DELETE_STUDY record)',
      () =>
        `its partial copy (study_id ${created.studyId}) could not be deleted: delete it before importing again`,
    );
    throw new Error(
      `import of ${JSON.stringify(study.name)} into ${where} failed: ${(e as Error).message}; ${cleaned}`,
      { cause: e },
    );
  }
  return {
    studyName: study.name,
    studyId: created.studyId,
    trials: study.trials.length,
    records: records.length + 1,
  };
}
