import type * as vscode from 'vscode';
import { computeProgress, detectStudy } from '../../core/runs/progress';
import type { RunRecord } from '../../core/runs/record';
import type { MergedStudy } from '../../core/storage/mergedView';
import type { StoreService } from '../storeService';
import type { RunHistory } from './runHistory';

/** Trials numbered as the optimizer's storage numbers them (Redis when there, else SQLite). */
function trialsOf(s: MergedStudy) {
  return (s.redis ?? s.sqlite)?.trials ?? [];
}

/**
 * How far each run got, from the studies the store reads: the run's study (named, picked, or
 * detected as the one that grows after launch) and its trials since the launch.
 */
export class RunProgress {
  constructor(
    private readonly store: StoreService,
    private readonly history: RunHistory,
    private readonly log: vscode.LogOutputChannel,
  ) {}

  /** At launch: the study as it is now (its trials are not the run's), or what to detect from. */
  studyAtLaunch(
    prefix: string | undefined,
    name: string | undefined,
    source: 'parameter' | 'picked',
  ): RunRecord['study'] {
    const under = this.studiesUnder(prefix);
    if (name === undefined)
      return {
        prefix,
        source: 'detecting',
        baseline: 0,
        counts: Object.fromEntries(under.map((x) => [x.name, trialsOf(x).length])),
      };
    const existing = under.find((x) => x.name === name);
    return { name, prefix, source, baseline: existing ? trialsOf(existing).length : 0 };
  }

  private studiesUnder(prefix: string | undefined): MergedStudy[] {
    return this.store
      .studies()
      .filter((x) => prefix === undefined || (x.redis ? x.prefix === prefix : true));
  }

  /** The study a run writes to, resolving "detect automatically" when it shows up. */
  studyOf(run: RunRecord): MergedStudy | undefined {
    const under = this.studiesUnder(run.study.prefix);
    if (run.study.name !== undefined)
      return (
        under.find((x) => x.name === run.study.name && x.redis) ??
        under.find((x) => x.name === run.study.name)
      );
    if (run.study.source !== 'detecting' || run.final) return undefined;
    const found = detectStudy(
      under.map((x) => ({ name: x.name, trials: trialsOf(x).length, study: x })),
      run.study.counts ?? {},
    );
    if (!found) return undefined;
    run.study = {
      name: found.name,
      prefix: run.study.prefix,
      source: 'detected',
      baseline: run.study.counts?.[found.name] ?? 0,
    };
    this.log.info(`runs: ${run.label} writes to study ${found.name} (detected)`);
    this.history.save(true);
    return found.study;
  }

  /** Updates the progress of every run not yet final; whether any run has progress. */
  update(): boolean {
    let any = false;
    for (const run of this.history.all) {
      if (run.final) continue;
      const study = this.studyOf(run);
      if (!study) continue;
      run.progress = computeProgress({
        directions: (study.redis ?? study.sqlite)!.directions,
        trials: trialsOf(study),
        baseline: run.study.baseline,
        startedAt: run.startedAt,
        until: run.endedAt ?? Date.now(),
        planned: run.planned,
      });
      any = true;
    }
    return any;
  }
}
