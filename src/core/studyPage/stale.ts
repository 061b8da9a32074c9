import type { JournalActivity } from '../optuna/activity';
import { StateCode } from './protocol';

/**
 * Which RUNNING trials look abandoned ("zombies"), and why — from signals the storage really
 * holds. Nothing here fails a trial: the page shows the reasons and the user decides.
 *
 * Signals, strongest first:
 * - SQLite with Optuna's heartbeat on: the trial's heartbeat is older than the grace period;
 * - journal: the worker that runs it (same process uuid and thread) has since started another
 *   trial — a worker runs one trial at a time, so it moved on (typically after a write failed
 *   during a Redis outage);
 * - journal: that worker has written nothing for far longer than it usually does, while other
 *   workers went on writing;
 * - the optimizer run started from this extension that was writing the study has ended;
 * - the trial has been running far longer than the study's finished trials took;
 * - journal: no new intermediate value for far longer than the trial's own reporting interval.
 */

/** The page's columns the classifier reads (the encoder's host copies). */
export interface StaleColumns {
  rows: number;
  state: Uint8Array;
  start: Float64Array;
  complete: Float64Array;
  steps: Int32Array;
  trialId: Int32Array;
  number: Int32Array;
  /** 1 for rows read only from SQLite (trial ids are SQLite's), 0 for journal rows. */
  sqliteOnly: Uint8Array;
}

export interface RunInfo {
  label: string;
  startedAt: number;
  endedAt?: number;
  /** The run's process is alive. */
  alive: boolean;
  /** How it ended, e.g. "exited with code 137". */
  ended?: string;
}

export interface StaleContext {
  /** Wall clock, epoch ms. */
  now: number;
  /** Who wrote what in the journal the study's Redis trials come from. */
  journal?: JournalActivity;
  /** SQLite heartbeats (Optuna's `trial_heartbeats`), read with the database's clock. */
  heartbeats?: { at: Map<number, number>; dbNow: number; graceMs: number };
  /** Optimizer runs of this extension that wrote to this study. */
  runs?: RunInfo[];
}

export interface StaleVerdict {
  row: number;
  number: number;
  reasons: string[];
}

/** Below this, nothing counts as "far longer": short pauses are normal. */
const MIN_SILENCE_MS = 60_000;
/** A worker or trial silent this many times its usual interval is flagged. */
const SILENCE_FACTOR = 10;
/** Running longer than this many times the 95th percentile of finished trials is flagged. */
const DURATION_FACTOR = 3;
/** Finished trials needed before "typical duration" means anything. */
const MIN_FINISHED = 5;
/** A journal clock this far ahead of ours is another clock (time zone): trust the journal. */
const CLOCK_SKEW_MS = 5 * 60_000;

export function classifyStale(c: StaleColumns, ctx: StaleContext): StaleVerdict[] {
  const running: number[] = [];
  for (let r = 0; r < c.rows; r++) if (c.state[r] === StateCode.Running) running.push(r);
  if (running.length === 0) return [];

  const j = ctx.journal;
  const journalNow = j ? j.timeAt(j.lastIndex) : NaN;
  const now = journalNow > ctx.now + CLOCK_SKEW_MS ? journalNow : ctx.now;
  const durations = finishedDurations(c);
  const rowOfTrial = new Map<number, number>();
  if (j) for (let r = 0; r < c.rows; r++) if (!c.sqliteOnly[r]) rowOfTrial.set(c.trialId[r], r);
  const usualGap = j ? workerGaps(c, j) : undefined;

  const out: StaleVerdict[] = [];
  for (const r of running) {
    const reasons: string[] = [];
    const id = c.trialId[r];
    const start = c.start[r];
    const inJournal = !!j && !c.sqliteOnly[r];

    const hb = c.sqliteOnly[r] ? ctx.heartbeats?.at.get(id) : undefined;
    if (hb !== undefined && ctx.heartbeats) {
      const age = ctx.heartbeats.dbNow - hb;
      if (age > ctx.heartbeats.graceMs)
        reasons.push(
          `no heartbeat for ${formatDuration(age)} (Optuna's grace period: ${formatDuration(ctx.heartbeats.graceMs)})`,
        );
    }

    if (inJournal) {
      const w = j.ownerOf(id);
      if (w >= 0) {
        const latest = j.latestTrialOf(w);
        if (latest !== id && latest >= 0 && j.startedAt(latest) > j.startedAt(id)) {
          const other = rowOfTrial.get(latest);
          reasons.push(
            `its worker (${shortWorker(j.workerName(w))}) has since started trial ${other !== undefined ? `#${c.number[other]}` : `id ${latest}`}`,
          );
        }
        const span = j.workerSpan(w);
        if (j.lastIndex > span.last) {
          const silence = journalNow - j.timeAt(span.last);
          const usual = usualGap!.get(w) ?? usualGap!.get(-1);
          if (usual !== undefined && silence > Math.max(SILENCE_FACTOR * usual, MIN_SILENCE_MS))
            reasons.push(
              `its worker has written nothing for ${formatDuration(silence)} while others went on (it usually writes every ${formatDuration(usual)})`,
            );
        }
      }
      const steps = c.steps[r];
      const last = j.lastReport(id);
      if (steps >= 2 && last >= 0 && Number.isFinite(start)) {
        const lastAt = j.timeAt(last);
        const every = (lastAt - start) / steps;
        const stall = now - lastAt;
        if (every > 0 && stall > Math.max(SILENCE_FACTOR * every, MIN_SILENCE_MS))
          reasons.push(
            `no new intermediate value for ${formatDuration(stall)} (it reported one every ${formatDuration(every)})`,
          );
      }
    }

    if (ctx.runs?.length && Number.isFinite(start)) {
      // Runs whose lifetime covers the trial's start; if all of them are gone, so is its writer.
      const covering = ctx.runs.filter(
        (x) => start >= x.startedAt - 5_000 && (x.endedAt === undefined || start <= x.endedAt),
      );
      if (covering.length > 0 && covering.every((x) => !x.alive)) {
        const x = covering[covering.length - 1];
        reasons.push(
          `the run "${x.label}" that was writing this study has ended${x.ended ? ` (${x.ended})` : ''}${x.endedAt ? ` at ${new Date(x.endedAt).toLocaleTimeString()}` : ''}`,
        );
      }
    }

    if (durations && Number.isFinite(start)) {
      const runningFor = now - start;
      if (runningFor > Math.max(DURATION_FACTOR * durations.p95, MIN_SILENCE_MS))
        reasons.push(
          `running for ${formatDuration(runningFor)}; the study's finished trials took ${formatDuration(durations.median)} (median), at most ${formatDuration(durations.p95)} for 95%`,
        );
    }

    if (reasons.length) out.push({ row: r, number: c.number[r], reasons });
  }
  return out;
}

/** Median and 95th percentile of the durations of COMPLETE and PRUNED trials. */
function finishedDurations(c: StaleColumns): { median: number; p95: number } | undefined {
  const d: number[] = [];
  for (let r = 0; r < c.rows; r++) {
    const s = c.state[r];
    if (s !== StateCode.Complete && s !== StateCode.Pruned) continue;
    const ms = c.complete[r] - c.start[r];
    if (Number.isFinite(ms) && ms >= 0) d.push(ms);
  }
  if (d.length < MIN_FINISHED) return undefined;
  d.sort((a, b) => a - b);
  return {
    median: d[Math.floor(d.length / 2)],
    p95: d[Math.min(d.length - 1, Math.ceil(0.95 * d.length) - 1)],
  };
}

/**
 * How long each worker usually goes between writes: the median over its finished trials of
 * duration / (intermediate values + 1) — a trial writes at its start, at each report and at
 * its end. Key -1: the same over all workers, for workers with too few finished trials.
 */
function workerGaps(c: StaleColumns, j: JournalActivity): Map<number, number> {
  const per = new Map<number, number[]>();
  const all: number[] = [];
  for (let r = 0; r < c.rows; r++) {
    if (c.sqliteOnly[r]) continue;
    const s = c.state[r];
    if (s !== StateCode.Complete && s !== StateCode.Pruned && s !== StateCode.Fail) continue;
    const ms = c.complete[r] - c.start[r];
    if (!Number.isFinite(ms) || ms < 0) continue;
    const gap = ms / (c.steps[r] + 1);
    all.push(gap);
    const w = j.ownerOf(c.trialId[r]);
    if (w < 0) continue;
    let list = per.get(w);
    if (!list) per.set(w, (list = []));
    list.push(gap);
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const out = new Map<number, number>();
  for (const [w, xs] of per) if (xs.length >= 3) out.set(w, median(xs));
  if (all.length >= 3) out.set(-1, median(all));
  return out;
}

/** "a1b2c3d4…-140" — the uuid's start and the thread. */
function shortWorker(id: string | undefined): string {
  if (!id) return 'unknown';
  const m = /^([0-9a-f]{8})[0-9a-f-]*-(\d+)$/i.exec(id);
  return m ? `${m[1]}…-${m[2]}` : id.slice(0, 16);
}

export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return '?';
  const s = Math.round(ms / 1000);
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (s < 90) return `${s} s`;
  const m = Math.round(s / 60);
  if (m < 90) return `${m} min`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h} h ${m % 60} min`;
  return `${Math.floor(h / 24)} d ${h % 24} h`;
}
