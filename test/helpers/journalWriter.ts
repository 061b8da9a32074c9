import Redis from 'ioredis';
import { pythonDumps, int } from './pythonJson';

/** Optuna's append: one atomic EVAL per record (JournalRedisStorage, use_cluster=False). */
import { OPTUNA_APPEND_SCRIPT as APPEND_SCRIPT } from '../../src/core/storage/journalAppend';
export { APPEND_SCRIPT };

const WORKER = 'c0ffee00-0000-4000-8000-000000000000-7';

export function createStudyRecord(name: string): string {
  return pythonDumps({
    op_code: int(0),
    worker_id: WORKER,
    study_name: name,
    directions: [int(1)],
  });
}

/** A finished trial as Optuna writes it: CREATE_TRIAL then SET_TRIAL_STATE_VALUES. */
export function trialRecords(studyId: number, trialId: number, value: number): string[] {
  const now = new Date().toISOString().replace('Z', '').padEnd(26, '0');
  return [
    pythonDumps({
      op_code: int(4),
      worker_id: WORKER,
      study_id: int(studyId),
      datetime_start: now,
    }),
    pythonDumps({
      op_code: int(6),
      worker_id: WORKER,
      trial_id: int(trialId),
      state: int(1),
      values: [value],
      datetime_complete: now,
    }),
  ];
}

/**
 * Appends finished trials to one study in a journal the way an optimizer does, on its own
 * connection, tolerating a Redis that goes away (appends then fail and are retried later).
 */
export class JournalWriter {
  private readonly redis: Redis;
  private timer: NodeJS.Timeout | undefined;
  trialsWritten = 0;
  failures = 0;

  constructor(
    url: string,
    readonly prefix: string,
    private nextTrialId = 0,
    private readonly studyId = 0,
  ) {
    // Like an optimizer's client: commands wait for a (re)connection instead of failing at once.
    this.redis = new Redis(url, { maxRetriesPerRequest: 0, retryStrategy: () => 100 });
    this.redis.on('error', () => undefined);
  }

  async append(records: string[]): Promise<void> {
    await this.redis.setnx(`${this.prefix}:log_number`, -1);
    for (const r of records) await this.redis.eval(APPEND_SCRIPT, 0, this.prefix, r);
  }

  async writeTrial(): Promise<void> {
    await this.append(trialRecords(this.studyId, this.nextTrialId, this.nextTrialId / 10));
    this.nextTrialId++;
    this.trialsWritten++;
  }

  /** Writes a trial every `ms` until stopped. */
  startSteady(ms: number): void {
    const tick = () => {
      this.writeTrial()
        .catch(() => this.failures++)
        .finally(() => {
          if (this.timer) this.timer = setTimeout(tick, ms);
        });
    };
    this.timer = setTimeout(tick, ms);
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  close(): void {
    this.stop();
    this.redis.disconnect();
  }
}
