import type { Trial } from './model';

/** What the replay keeps about who wrote what (plain data, v8-serializable for the cache). */
export interface ActivityState {
  workers: string[];
  /** Per worker: journal index of its first and last record, records written, latest trial. */
  workerFirst: number[];
  workerLast: number[];
  workerRecords: number[];
  workerLatestTrial: number[];
  /** Per trial_id: the worker running it (created RUNNING, or set RUNNING), -1 unknown. */
  owner: number[];
  /** Per trial_id: journal index of the record that started it, and of its last intermediate value. */
  trialStarted: number[];
  trialReported: number[];
  /** Journal indexes of records that carry a time, and whose: trial_id * 2 (+1 = completion). */
  stampIndex: number[];
  stampRef: number[];
}

/**
 * Who wrote what in a journal, and roughly when. Journal records carry `worker_id` (one uuid
 * per storage instance, i.e. per process, plus the thread) but only CREATE_TRIAL and
 * SET_TRIAL_STATE_VALUES carry times; since the journal is in write order, the time of any
 * entry is taken as the time of the nearest timed record before it. Times are looked up only
 * when asked (from the trials' own datetimes), so reading a journal parses no extra dates.
 * This is what the stale-trial classifier reads.
 */
export class JournalActivity {
  private readonly s: ActivityState;
  private readonly codes = new Map<string, number>();
  private lastWorker: string | undefined;
  private lastCode = -1;

  constructor(
    /** The replay's trial by trial_id. */
    private readonly trial: (trialId: number) => Trial | undefined,
    state?: ActivityState,
  ) {
    this.s = state ?? {
      workers: [],
      workerFirst: [],
      workerLast: [],
      workerRecords: [],
      workerLatestTrial: [],
      owner: [],
      trialStarted: [],
      trialReported: [],
      stampIndex: [],
      stampRef: [],
    };
    this.s.workers.forEach((w, i) => this.codes.set(w, i));
  }

  toState(): ActivityState {
    return this.s;
  }

  /** Any record with a worker id; returns the worker's code (-1 when the record has none). */
  wrote(index: number, workerId: unknown): number {
    if (typeof workerId !== 'string') return -1;
    // Records come in runs from one worker: comparing with the last one's id is cheaper than
    // hashing every record's (a fresh string each time) for the map.
    let w = workerId === this.lastWorker ? this.lastCode : this.codes.get(workerId);
    const s = this.s;
    if (w === undefined) {
      w = s.workers.length;
      this.codes.set(workerId, w);
      s.workers.push(workerId);
      s.workerFirst.push(index);
      s.workerLast.push(index);
      s.workerRecords.push(0);
      s.workerLatestTrial.push(-1);
    }
    this.lastWorker = workerId;
    this.lastCode = w;
    s.workerLast[w] = index;
    s.workerRecords[w]++;
    return w;
  }

  /** A trial was created (in any state) or set RUNNING by worker `w`. */
  started(index: number, w: number, trialId: number, running: boolean): void {
    const s = this.s;
    while (s.owner.length <= trialId) {
      s.owner.push(-1);
      s.trialStarted.push(-1);
      s.trialReported.push(-1);
    }
    if (running) {
      s.owner[trialId] = w;
      if (w >= 0) s.workerLatestTrial[w] = trialId;
    }
    s.trialStarted[trialId] = index;
    s.trialReported[trialId] = index;
    s.stampIndex.push(index);
    s.stampRef.push(trialId * 2);
  }

  finished(index: number, trialId: number): void {
    this.s.stampIndex.push(index);
    this.s.stampRef.push(trialId * 2 + 1);
  }

  /** An intermediate value of the trial. */
  reported(index: number, trialId: number): void {
    if (trialId < this.s.trialReported.length) this.s.trialReported[trialId] = index;
  }

  // ---- queries -------------------------------------------------------------------------

  get workerCount(): number {
    return this.s.workers.length;
  }

  workerName(w: number): string | undefined {
    return this.s.workers[w];
  }

  ownerOf(trialId: number): number {
    return this.s.owner[trialId] ?? -1;
  }

  /** The trial the worker started last (trial_id), -1 when none. */
  latestTrialOf(w: number): number {
    return this.s.workerLatestTrial[w] ?? -1;
  }

  startedAt(trialId: number): number {
    return this.s.trialStarted[trialId] ?? -1;
  }

  /** Journal index of the trial's last intermediate value (its start when it has none). */
  lastReport(trialId: number): number {
    return this.s.trialReported[trialId] ?? -1;
  }

  workerSpan(w: number): { first: number; last: number; records: number } {
    return {
      first: this.s.workerFirst[w],
      last: this.s.workerLast[w],
      records: this.s.workerRecords[w],
    };
  }

  /** Index of the last entry any worker wrote, -1 before the first. */
  get lastIndex(): number {
    let last = -1;
    for (const i of this.s.workerLast) if (i > last) last = i;
    return last;
  }

  /**
   * Epoch ms of journal entry `index`: the time of the nearest timed record at or before it
   * (NaN when there is none). Naive datetimes (Optuna before 5.0) are read as local time.
   */
  timeAt(index: number): number {
    const idx = this.s.stampIndex;
    let lo = 0;
    let hi = idx.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (idx[mid] <= index) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    // A record whose trial has no such time (a WAITING trial has no start): look further back.
    for (let k = found, tries = 0; k >= 0 && tries < 64; k--, tries++) {
      const ref = this.s.stampRef[k];
      const t = this.trial(ref >> 1);
      const text = ref & 1 ? t?.datetimeComplete : t?.datetimeStart;
      const ms = text ? Date.parse(text) : NaN;
      if (Number.isFinite(ms)) return ms;
    }
    return NaN;
  }
}
