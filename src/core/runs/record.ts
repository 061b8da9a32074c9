import type { Values } from './params';
import type { RunProgress } from './progress';

/**
 * running: the process is (or was last seen) alive; exited: it wrote its exit status;
 * lost: it is gone without a status (terminal or tmux session closed under it, machine
 * restarted).
 */
export type RunState = 'running' | 'exited' | 'lost';

/** One launched run, as kept in the workspace's history (plain JSON). */
export interface RunRecord {
  id: string;
  /** Per-workspace counter: "#3". */
  seq: number;
  /** e.g. "tpe multistage #3" */
  label: string;
  terminalName: string;
  profile?: string;
  /** Ramp stage (0-based) when launched from a ramp profile. */
  stage?: number;
  values: Values;
  /** The command line as run: values quoted, no password. */
  command: string;
  cwd: string;
  /** The run's folder in the extension's storage (script, pid, status). */
  dir: string;
  tmux?: { session: string; socket?: string };
  study: {
    /** Known from the study parameter, picked at launch, or detected after launch. */
    name?: string;
    /** Journal prefix the run writes under; undefined: any prefix. */
    prefix?: string;
    /** How the study was chosen. */
    source: 'parameter' | 'picked' | 'detected' | 'detecting';
    /** Trials the study had at launch (this run's trials are numbered from here). */
    baseline: number;
    /** While detecting: trial counts of the studies under the prefix at launch. */
    counts?: Record<string, number>;
  };
  planned?: number;
  startedAt: number;
  endedAt?: number;
  state: RunState;
  exitCode?: number;
  /** Why a run is `lost`, or how it ended when that is not the exit code alone. */
  note?: string;
  stopRequestedAt?: number;
  pid?: number;
  /** The last progress seen, so the history still tells how far a run got. */
  progress?: RunProgress;
  /**
   * Set after the read that followed the run's end: its progress is final from then on (a next
   * run on the same study must not add to it).
   */
  final?: boolean;
}

/** "exited with code 0", "stopped (exit 130)", "running", "lost: …" */
export function stateText(r: RunRecord): string {
  if (r.state === 'running') return r.stopRequestedAt ? 'stopping' : 'running';
  if (r.state === 'lost') return `ended without an exit status${r.note ? ` (${r.note})` : ''}`;
  const how = exitText(r.exitCode ?? -1);
  return r.stopRequestedAt ? `stopped: ${how}` : how;
}

/** What an exit status means: 0 done, 128+N killed by signal N. */
export function exitText(code: number): string {
  const signal: Record<number, string> = {
    129: 'hangup',
    130: 'interrupted',
    137: 'killed',
    143: 'terminated',
  };
  return `exited with code ${code}${signal[code] ? ` (${signal[code]})` : ''}`;
}

const MAX_HISTORY = 100;

/** Newest first, at most MAX_HISTORY; what falls off is returned so its files can go too. */
export function trimHistory(runs: RunRecord[]): { keep: RunRecord[]; drop: RunRecord[] } {
  const sorted = [...runs].sort((a, b) => b.startedAt - a.startedAt);
  const keep: RunRecord[] = [];
  const drop: RunRecord[] = [];
  for (const r of sorted)
    (keep.length < MAX_HISTORY || r.state === 'running' ? keep : drop).push(r);
  return { keep, drop };
}

/** Validates what workspaceState returned (another version may have written it). */
export function loadHistory(raw: unknown): RunRecord[] {
  if (!Array.isArray(raw)) return [];
  return raw.filter(
    (r): r is RunRecord =>
      !!r &&
      typeof r === 'object' &&
      typeof (r as RunRecord).id === 'string' &&
      typeof (r as RunRecord).startedAt === 'number' &&
      typeof (r as RunRecord).values === 'object',
  );
}
