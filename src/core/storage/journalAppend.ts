import { randomUUID } from 'node:crypto';
import { threadId } from 'node:worker_threads';
import type Redis from 'ioredis';
import { logNumberKey } from './redisJournalReader';

/** Optuna's append (JournalRedisStorage, use_cluster=False): one atomic EVAL, `ARGV = [prefix, json]`. */
export const OPTUNA_APPEND_SCRIPT =
  "local i = redis.call('incr', string.format('%s:log_number', ARGV[1])) redis.call('set', string.format('%s:log:%d', ARGV[1], i), ARGV[2])";

/** A worker id in Optuna's shape ("<uuid4>-<thread ident>") for the records this process writes. */
export const WORKER_ID = `${randomUUID()}-${process.pid}${threadId}`;

/**
 * Appends records (JSON texts as Python writes them) to a Redis journal exactly as Optuna
 * does: SETNX the counter to -1 first, then one atomic append per record.
 */
export async function appendJournalRecords(
  redis: Redis,
  prefix: string,
  records: string[],
): Promise<void> {
  await redis.setnx(logNumberKey(prefix), -1);
  for (const r of records) await redis.eval(OPTUNA_APPEND_SCRIPT, 0, prefix, r);
}
