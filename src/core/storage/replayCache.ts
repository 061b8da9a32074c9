import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as v8 from 'node:v8';
import type { ReplayState } from '../optuna/replay';

/** What a journal reader keeps between runs: its replay and where in the journal it was. */
export interface CachedReplay {
  /** Index of the next journal entry to read. */
  next: number;
  /** sha256 of the text of entry `next - 1`: proves the journal is still the one we read. */
  lastEntryHash: string;
  state: ReplayState;
}

// 2: the replay state carries the journal activity (who wrote what) for the stale classifier.
// 3: trials as columns (optuna/trialTable.ts).
const FORMAT = 3;

export function hashEntry(text: Buffer | string): string {
  return createHash('sha256').update(text).digest('hex');
}

/**
 * A local snapshot of replayed journals, like Optuna's own pickle snapshot but kept on this
 * machine (never written into the user's Redis): a reload of a 20,000-trial study then reads
 * only the entries appended since. A reader trusts an entry only after checking the journal
 * still holds the same last entry; anything unreadable is ignored and rebuilt.
 */
export class ReplayCache {
  constructor(readonly dir: string) {}

  private file(key: string): string {
    return path.join(this.dir, `${createHash('sha256').update(key).digest('hex').slice(0, 32)}.v8`);
  }

  load(key: string): CachedReplay | undefined {
    let buf: Buffer;
    try {
      buf = fs.readFileSync(this.file(key));
    } catch {
      return undefined;
    }
    try {
      const data = v8.deserialize(buf) as { format: number; key: string; entry: CachedReplay };
      return data.format === FORMAT && data.key === key ? data.entry : undefined;
    } catch {
      return undefined; // a torn or foreign file: rebuild from the journal
    }
  }

  save(key: string, entry: CachedReplay): void {
    fs.mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const target = this.file(key);
    const tmp = `${target}.${process.pid}.tmp`;
    // The cache holds the user's study data: readable by the user only.
    fs.writeFileSync(tmp, v8.serialize({ format: FORMAT, key, entry }), { mode: 0o600 });
    fs.renameSync(tmp, target);
  }

  delete(key: string): void {
    fs.rmSync(this.file(key), { force: true });
  }
}
