import * as fs from 'node:fs';
import { JournalReplay } from '../optuna/replay';

export interface RefreshResult {
  /** Entries read by this refresh. */
  entries: number;
  /** The journal shrank or was replaced, so the model was rebuilt from the start. */
  reset: boolean;
}

// 2 MB reads: larger chunks raised the peak memory of a 39 MB journal by ~50 MB, no faster.
const CHUNK = 2 * 1024 * 1024;

/**
 * Reads a `JournalFileStorage` log incrementally by byte offset. Takes no lock, as Optuna's
 * own readers do: appends are whole lines, and an unterminated last line is a write in
 * progress that the next refresh picks up.
 */
export class JournalFileReader {
  replay = new JournalReplay();
  private offset = 0;
  private identity: string | undefined;

  constructor(readonly path: string) {}

  refresh(): RefreshResult {
    let fd: number;
    try {
      fd = fs.openSync(this.path, 'r');
    } catch (e) {
      throw new Error(
        `cannot open journal file ${this.path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
        { cause: e },
      );
    }
    try {
      const st = fs.fstatSync(fd);
      if (!st.isFile()) throw new Error(`${this.path} is not a regular file`);
      const identity = `${st.dev}:${st.ino}`;
      let reset = false;
      if ((this.identity !== undefined && identity !== this.identity) || st.size < this.offset) {
        this.replay = new JournalReplay();
        this.offset = 0;
        reset = true;
      }
      this.identity = identity;
      const before = this.replay.entriesRead;
      let pending = Buffer.alloc(0);
      let pos = this.offset;
      while (pos < st.size) {
        const want = Math.min(CHUNK, st.size - pos);
        const buf = Buffer.allocUnsafe(want);
        const got = fs.readSync(fd, buf, 0, want, pos);
        if (got <= 0) break;
        pos += got;
        const data = pending.length
          ? Buffer.concat([pending, buf.subarray(0, got)])
          : buf.subarray(0, got);
        const lastNl = data.lastIndexOf(10);
        if (lastNl < 0) {
          pending = data;
          continue;
        }
        this.applyLines(data.toString('utf8', 0, lastNl));
        this.offset += lastNl + 1;
        pending = data.subarray(lastNl + 1);
      }
      return { entries: this.replay.entriesRead - before, reset };
    } finally {
      fs.closeSync(fd);
    }
  }

  private applyLines(text: string): void {
    const r = this.replay;
    let start = 0;
    for (;;) {
      const nl = text.indexOf('\n', start);
      const line = nl < 0 ? text.slice(start) : text.slice(start, nl);
      r.applyText(r.entriesRead, line);
      if (nl < 0) return;
      start = nl + 1;
    }
  }
}
