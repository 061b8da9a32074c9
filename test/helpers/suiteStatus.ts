import * as assert from 'node:assert/strict';

/** The Python writers' failover and recovery times, checked against the promises in the report. */
const WRITER_TIMES = new Set(['writers_failover_ms', 'writers_recovery_ms']);

interface Outcome {
  id: string;
  status: string;
  message: string;
  checks?: Array<{ metric: string; ok: boolean }>;
  metrics?: Record<string, unknown>;
  log?: string[];
}

/**
 * Asserts a scenario passed, except that the Python writers' times alone may miss their
 * promise: a loaded test machine stretches a Python process's trial, and tests never assert
 * on wall-clock durations. Everything else (the reader, lost and duplicated trials) must hold.
 * A scenario from the CLI's --json has no checks: the metrics say which failed then.
 */
export function assertPassed(s: Outcome): void {
  if (s.status === 'passed') return;
  const detail = `${s.id}: ${s.message}${s.log ? `\n${s.log.join('\n')}` : ''}`;
  const failed = s.checks
    ? s.checks.filter((c) => !c.ok).map((c) => c.metric)
    : [...WRITER_TIMES].filter((k) => typeof s.metrics?.[k] === 'number');
  assert.ok(
    s.status === 'failed' &&
      failed.length > 0 &&
      failed.every((m) => WRITER_TIMES.has(m)) &&
      /^(Python writers: time to write on (SQLite|Redis again): measured \d+ ms, promised < \d+ ms(; )?)+$/.test(
        s.message,
      ),
    detail,
  );
  console.log(`      (${s.id}: the Python writers were slow on this loaded machine: ${s.message})`);
}
