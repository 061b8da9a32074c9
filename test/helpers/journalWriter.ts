import Redis from 'ioredis';
import { JournalRecords } from '../../src/core/optuna/journal/records';
import { appendJournalBatch, appendJournalRecords } from '../../src/core/optuna/journal/redisLog';

const records = new JournalRecords('c0ffee00-0000-4000-8000-000000000000-7');

export function createStudyRecord(name: string): string {
  return records.createStudy(name);
}

/** A finished trial as Optuna writes it: CREATE_TRIAL then SET_TRIAL_STATE_VALUES. */
function trialRecords(studyId: number, trialId: number, value: number): string[] {
  return [records.createTrial(studyId), records.setTrialStateValues(trialId, 'COMPLETE', [value])];
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
    await appendJournalRecords(this.redis, this.prefix, records);
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

/**
 * Writes a journal of one study with `trials` finished trials (1 + 2 x trials entries) under
 * `prefix`, in one batch: a large journal for read tests.
 */
export async function writeFinishedStudy(
  redis: Redis,
  prefix: string,
  name: string,
  trials: number,
): Promise<void> {
  const w = new JournalRecords();
  const out = [w.createStudy(name)];
  for (let t = 0; t < trials; t++)
    out.push(w.createTrial(0), w.setTrialStateValues(t, 'COMPLETE', [t / 7]));
  await appendJournalBatch(redis, prefix, out);
}
