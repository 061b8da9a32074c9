import type Redis from 'ioredis';
import type { ReadIssue } from '../optuna/model';
import { discoverPrefixes, logNumberKey } from '../optuna/journal/redisLog';

/** One journal prefix as read after Redis (re)started: what a user checks it by. */
export interface JournalCheck {
  prefix: string;
  /** Entries the counter says exist (`log_number + 1`). */
  entries: number;
  /** Present only after a full read. */
  studies?: number;
  trials?: number;
  issues?: ReadIssue[];
}

/** Every journal prefix with its entry count: cheap (a SCAN and one GET a prefix). */
export async function journalEntryCounts(redis: Redis): Promise<JournalCheck[]> {
  const { prefixes } = await discoverPrefixes(redis);
  const out: JournalCheck[] = [];
  for (const prefix of prefixes) {
    const raw = await redis.get(logNumberKey(prefix));
    out.push({ prefix, entries: raw !== null && /^-?\d+$/.test(raw) ? Number(raw) + 1 : 0 });
  }
  return out;
}

/** `"" 20,001 entries (3 studies, 2,000 trials)` a line, for messages and reports. */
export function describeJournals(journals: JournalCheck[]): string[] {
  if (journals.length === 0) return ['no Optuna journal on this server'];
  return journals.map((j) => {
    const read =
      j.studies !== undefined
        ? ` (${j.studies} ${j.studies === 1 ? 'study' : 'studies'}, ${j.trials!.toLocaleString('en-US')} trials${j.issues?.length ? `, ${j.issues.length} missing or unreadable entries` : ''})`
        : '';
    return `prefix ${JSON.stringify(j.prefix)}: ${j.entries.toLocaleString('en-US')} entries${read}`;
  });
}
