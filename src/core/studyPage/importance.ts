import { Worker } from 'node:worker_threads';
import type { StudyEncoder } from './encoder';
import { type ImportanceInput, type ImportanceResult, pedAnova } from './pedAnova';
import { type ImportanceMessage, StateCode } from './protocol';

/** What goes to the worker: one input per objective, buffers transferred, not copied. */
export interface ImportanceJob {
  objectives: ImportanceInput[];
}

export interface ImportanceReply {
  results: ImportanceResult[];
  ms: number;
}

/** Recomputations are at least this far apart while COMPLETE trials keep arriving. */
const MIN_INTERVAL_MS = 5_000;

/**
 * Parameter importance (PED-ANOVA) for a study page, computed off the extension host's main
 * thread in a worker, and only when the count of COMPLETE trials changed since the last
 * result (finished trials never change, so the same count means the same answer). The worker
 * lives for one computation: kept between them, its heap (tens of MB after 100,000 trials)
 * stayed in the extension host's memory for as long as the page was open, to save a start of
 * a few tens of milliseconds every few seconds at most.
 */
export class ImportanceService {
  private worker: Worker | undefined;
  private lastCount = -1;
  private lastAt = 0;
  private running: Promise<ImportanceMessage | undefined> | undefined;
  private disposed = false;

  /** `workerFile`: the bundled worker script; undefined computes in-line (unit tests). */
  constructor(private readonly workerFile: string | undefined) {}

  /** A worker thread is computing (none is kept between computations). */
  get computing(): boolean {
    return this.worker !== undefined;
  }

  /** The COMPLETE count the last result was for (-1 before the first). */
  get computedFor(): number {
    return this.lastCount;
  }

  /**
   * A new result when the COMPLETE count changed (and the last one is not too recent), else
   * undefined. `force` ignores the interval (a page that just opened).
   */
  async update(
    enc: StudyEncoder,
    directions: string[],
    force = false,
    now = Date.now(),
  ): Promise<ImportanceMessage | undefined> {
    if (this.running) return undefined;
    const cols = enc.columns();
    let complete = 0;
    for (let r = 0; r < cols.rows; r++) if (cols.state[r] === StateCode.Complete) complete++;
    if (complete === this.lastCount) return undefined;
    if (!force && now - this.lastAt < MIN_INTERVAL_MS) return undefined;
    this.lastCount = complete;
    this.lastAt = now;
    const job = jobOf(enc, directions);
    this.running = this.run(job)
      .then(
        (reply): ImportanceMessage => toMessage(reply, complete),
        (e: unknown) => {
          // A page closed mid-computation stopped its worker: nothing to report.
          if (this.disposed) return undefined;
          throw e;
        },
      )
      .finally(() => (this.running = undefined));
    return this.running;
  }

  private run(job: ImportanceJob): Promise<ImportanceReply> {
    if (!this.workerFile) {
      const t0 = performance.now();
      const results = job.objectives.map(pedAnova);
      return Promise.resolve({ results, ms: performance.now() - t0 });
    }
    const worker = (this.worker = this.spawn(this.workerFile));
    return new Promise<ImportanceReply>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
      // Stopped by dispose(), or died without an error: no result will come.
      worker.once('exit', (code) => reject(new Error(`importance worker exited (${code})`)));
      const transfer = job.objectives.flatMap((o) => [
        o.loss.buffer as ArrayBuffer,
        ...o.params.flatMap((p) => [
          p.internal.buffer as ArrayBuffer,
          p.dist.buffer as ArrayBuffer,
        ]),
      ]);
      worker.postMessage(job, transfer);
    }).finally(() => {
      if (this.worker === worker) this.worker = undefined;
      void worker.terminate();
    });
  }

  private spawn(file: string): Worker {
    const w = new Worker(file);
    w.unref();
    return w;
  }

  dispose(): void {
    this.disposed = true;
    void this.worker?.terminate();
    this.worker = undefined;
  }
}

/** The COMPLETE rows as one input per objective (lower is better: maximized values negated). */
export function jobOf(enc: StudyEncoder, directions: string[]): ImportanceJob {
  const cols = enc.columns();
  const rows: number[] = [];
  for (let r = 0; r < cols.rows; r++) if (cols.state[r] === StateCode.Complete) rows.push(r);
  const pick = <T extends Float64Array | Int32Array>(src: T, make: (n: number) => T): T => {
    const out = make(rows.length);
    for (let k = 0; k < rows.length; k++) out[k] = src[rows[k]];
    return out;
  };
  return {
    objectives: directions.map((d, i) => {
      const sign = d === 'MAXIMIZE' ? -1 : 1;
      const loss = pick(cols.values[i], (n) => new Float64Array(n));
      for (let k = 0; k < loss.length; k++) loss[k] *= sign;
      return {
        loss,
        params: cols.params.map((p) => ({
          name: p.name,
          internal: pick(p.num, (n) => new Float64Array(n)),
          dist: pick(p.dist, (n) => new Int32Array(n)),
          dists: p.dists,
        })),
      };
    }),
  };
}

function toMessage(reply: ImportanceReply, completeCount: number): ImportanceMessage {
  const note = reply.results.find((r) => r.note)?.note;
  return {
    type: 'importance',
    objectives: reply.results.map((r, objective) => ({ objective, params: r.params })),
    completeCount,
    ms: reply.ms,
    note,
  };
}
