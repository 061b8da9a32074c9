import Redis from 'ioredis';
import { internalRepr } from '../optuna/distributions';
import { JournalRecords } from '../optuna/journal/records';
import { appendJournalRecords, logKey, logNumberKey } from '../optuna/journal/redisLog';
import { WorkerIndex } from '../optuna/journal/workerIndex';
import type { Distribution, StudyDirection, TrialState } from '../optuna/model';
import type { JsonValue } from '../optuna/pythonJsonParse';
import { type ConnectionSettings, redisOptions } from '../redis/connect';
import { RedisConnectError, classifyRedisError } from '../redis/connectError';
import { describeEndpoint, parseRedisUrl } from '../redis/url';
import { raceAbort, sleep } from '../abort';
import { SuiteCancelled } from './abort';

/** The journal is not what its writers appended: an entry is missing or the counter went back. */
export class JournalBrokenError extends Error {}

/** A writer gave up: Redis stayed unreachable longer than its retry budget, or refused a command. */
export class WriterError extends Error {}

export interface WorkerOptions {
  url: string;
  password?: string;
  settings?: Partial<ConnectionSettings>;
  prefix: string;
  signal?: AbortSignal;
  /** How long an operation is retried while Redis is unreachable (like an optimizer's retry loop). */
  retryForMs: number;
}

/**
 * One simulated optimizer process: its own connection and worker id, and Optuna 3.1's
 * `JournalStorage` behaviour — every write is `append_logs` (SETNX of the counter, then the
 * atomic append EVAL) followed by a sync that reads the new entries. Unlike Optuna, a missing
 * entry is reported (JournalBrokenError) instead of waited for forever, and operations are
 * retried while Redis is unreachable, as optimizers with a retry loop do.
 */
export class JournalWorker {
  readonly rec = new JournalRecords();
  readonly index: WorkerIndex;
  readonly client: Redis;
  readonly where: string;
  /** Duration of each append (SETNX + EVAL, retries included), ms. */
  readonly appendMs: number[] = [];
  readonly syncMs: number[] = [];
  retries = 0;
  popRacesLost = 0;
  private next = 0;
  private lastError: unknown;
  private closed = false;

  constructor(private readonly o: WorkerOptions) {
    const endpoint = parseRedisUrl(o.url);
    this.where = describeEndpoint(endpoint);
    this.client = new Redis(
      redisOptions(endpoint, {
        password: o.password,
        settings: o.settings,
        reconnect: true,
        connectionName: 'optuna-storage-suite',
      }),
    );
    this.client.on('error', (e) => (this.lastError = e));
    this.index = new WorkerIndex(this.rec.workerId);
  }

  get prefix(): string {
    return this.o.prefix;
  }

  /** Connects; while Redis refuses, keeps trying within the retry budget (ioredis reconnects). */
  async connect(): Promise<void> {
    try {
      await raceAbort(this.client.connect(), this.o.signal);
    } catch (e) {
      if (e instanceof SuiteCancelled) throw e;
      await this.retrying(async () => {
        if (this.client.status !== 'ready') throw new Error('Connection is closed.');
      });
    }
  }

  /** Runs `fn`, retrying while Redis is unreachable or still loading, up to the retry budget. */
  private async retrying<T>(fn: () => Promise<T>): Promise<T> {
    const deadline = Date.now() + this.o.retryForMs;
    let delay = 25;
    for (;;) {
      this.o.signal?.throwIfAborted();
      try {
        return await fn();
      } catch (e) {
        if (e instanceof JournalBrokenError || e instanceof SuiteCancelled || this.closed) throw e;
        const msg = (e as Error)?.message ?? String(e);
        const transient = /^(LOADING|BUSY|TRYAGAIN|MASTERDOWN)/.test(msg);
        const generic = /Connection is closed|Stream isn't writeable|enableOfflineQueue/.test(msg);
        const err = classifyRedisError(generic && this.lastError ? this.lastError : e, this.where);
        if (!transient && err.failure !== 'unreachable') throw new WriterError(err.message);
        if (Date.now() + delay > deadline) {
          throw new WriterError(
            `${err.message} (gave up after retrying for ${(this.o.retryForMs / 1000).toFixed(1)} s)`,
          );
        }
        this.retries++;
        await sleep(delay, this.o.signal);
        delay = Math.min(delay * 2, 200);
      }
    }
  }

  /** Optuna's `append_logs` for one record. */
  async append(text: string): Promise<void> {
    const t0 = performance.now();
    const p = this.o.prefix;
    await this.retrying(() => appendJournalRecords(this.client, p, [text]));
    this.appendMs.push(performance.now() - t0);
  }

  /** Optuna's `_sync_with_backend`: reads every entry after the last one read (MGET batches). */
  async sync(): Promise<void> {
    const t0 = performance.now();
    const p = this.o.prefix;
    await this.retrying(async () => {
      const raw = await this.client.get(logNumberKey(p));
      if (raw === null) {
        if (this.next > 0)
          throw new JournalBrokenError(
            `the journal counter ${logNumberKey(p)} disappeared after ${this.next} entries (evicted, or the server lost its data)`,
          );
        return;
      }
      const last = Number(raw);
      if (last < this.next - 1)
        throw new JournalBrokenError(
          `the journal counter ${logNumberKey(p)} went back from ${this.next - 1} to ${last} (evicted, or the server lost its data)`,
        );
      while (this.next <= last) {
        const to = Math.min(last, this.next + 999);
        const keys: string[] = [];
        for (let i = this.next; i <= to; i++) keys.push(logKey(p, i));
        const values = await this.client.mget(keys);
        for (let j = 0; j < values.length; j++) {
          const v = values[j];
          // Optuna would wait here forever (read_logs retries a missing key with back-off).
          if (v === null)
            throw new JournalBrokenError(
              `journal entry ${keys[j]} is missing (evicted or lost): Optuna workers would wait for it forever`,
            );
          this.index.apply(v);
          this.next++;
        }
      }
    });
    this.syncMs.push(performance.now() - t0);
  }

  private async write(text: string): Promise<void> {
    await this.append(text);
    await this.sync();
  }

  async createStudy(name: string, directions: StudyDirection[] = ['MINIMIZE']): Promise<number> {
    await this.write(this.rec.createStudy(name, directions));
    const id = this.index.studyId(name);
    if (id === undefined)
      throw new JournalBrokenError(
        `study "${name}" is not in the journal right after it was created`,
      );
    return id;
  }

  async setStudyUserAttr(studyId: number, key: string, value: JsonValue): Promise<void> {
    await this.write(this.rec.setStudyUserAttr(studyId, key, value));
  }

  /** `create_new_trial`: the new trial's id and number, from this worker's own replay. */
  async createTrial(
    studyId: number,
    datetimeStart?: string,
  ): Promise<{ trialId: number; number: number }> {
    const before = this.index.lastCreated;
    await this.write(this.rec.createTrial(studyId, datetimeStart));
    const id = this.index.lastCreated;
    if (id === before || id < 0)
      throw new JournalBrokenError(
        'the trial this worker created is not in the journal (its CREATE_TRIAL entry is missing)',
      );
    return { trialId: id, number: this.index.trials[id].number };
  }

  async enqueueTrial(studyId: number, fixedParams: Record<string, JsonValue>): Promise<void> {
    await this.write(this.rec.enqueueTrial(studyId, fixedParams));
  }

  /**
   * Optuna's `_pop_waiting_trial_id`: for each WAITING trial, write RUNNING and keep it only if
   * this worker's record was the one applied (the others lose the race and try the next).
   */
  async popWaiting(
    studyId: number,
    at?: string,
  ): Promise<
    { trialId: number; number: number; fixedParams: Record<string, JsonValue> } | undefined
  > {
    await this.sync();
    for (const t of this.index.waiting(studyId)) {
      if (await this.setState(t.trialId, 'RUNNING', null, at))
        return { trialId: t.trialId, number: t.number, fixedParams: t.fixedParams ?? {} };
      this.popRacesLost++;
    }
    return undefined;
  }

  /** `set_trial_state_values`; for RUNNING, whether this worker now owns the trial. */
  async setState(
    trialId: number,
    state: TrialState,
    values: number[] | null = null,
    at?: string,
  ): Promise<boolean> {
    await this.write(this.rec.setTrialStateValues(trialId, state, values, at));
    return state !== 'RUNNING' || this.index.owned === trialId;
  }

  async setParam(
    trialId: number,
    name: string,
    dist: Distribution,
    external: JsonValue,
  ): Promise<void> {
    await this.write(this.rec.setTrialParam(trialId, name, internalRepr(dist, external), dist));
  }

  async report(trialId: number, step: number, value: number): Promise<void> {
    await this.write(this.rec.setTrialIntermediateValue(trialId, step, value));
  }

  async setTrialUserAttr(trialId: number, key: string, value: JsonValue): Promise<void> {
    await this.write(this.rec.setTrialUserAttr(trialId, key, value));
  }

  close(): void {
    this.closed = true;
    this.client.disconnect();
  }
}

/** True for errors that end a scenario's verdict with "the server is gone" rather than "data wrong". */
export function isUnreachable(e: unknown): boolean {
  return e instanceof RedisConnectError && e.failure === 'unreachable';
}
