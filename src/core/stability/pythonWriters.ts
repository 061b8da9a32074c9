import { type ChildProcess, spawn } from 'node:child_process';
import { COMPANION_PACKAGE, type CompanionPython, companionEnv } from '../python/companion';
import type { Study } from '../optuna/model';
import { pollUntil } from '../abort';
import { errorMessage } from './context';

/** The user attribute naming each trial a writer told (suite_worker.TOKEN_ATTR). */
export const TOKEN_ATTR = 'suite_token';
/** Writers the outage scenarios start: enough to see each fail over, few for a 2-core box. */
export const PYTHON_WRITERS = 2;

/** One trial a writer told, as it reported it. */
export interface WriterTrial {
  worker: number;
  token: string;
  number: number;
  value: number;
  /** Where the storage wrote when the trial was told: redis, sqlite, recovering or held. */
  storage: string;
  /** Studies that still had SQLite trials Redis lacked (0: reconciled). */
  pending: number;
  /** When it was told (ms since the epoch, this machine's clock). */
  at: number;
}

interface Worker {
  proc: ChildProcess;
  done?: { status: Record<string, unknown>; errors: string[] };
  exited: Promise<void>;
  stderr: string;
}

/**
 * Real optimizer processes on the companion's storage (`python3 -m enhanced_redis_storage
 * suite-worker`), each asking and telling trials on one study until stopped, reporting each
 * trial and where it was written. The password reaches them only through their environment.
 */
export class PythonWriters {
  readonly trials: WriterTrial[] = [];
  readonly errors: string[] = [];
  private readonly workers: Worker[] = [];
  private stopping = false;

  constructor(
    readonly companion: CompanionPython,
    o: {
      url: string;
      password?: string;
      prefix: string;
      /** The writers' own SQLite fallback (never the user's file). */
      sqlitePath: string;
      study: string;
      /** Working folder: no user's redis_config.json is picked up from there. */
      cwd: string;
      count?: number;
    },
  ) {
    const base = { ...process.env };
    for (const k of Object.keys(base)) if (k.startsWith('OPTUNA_STORAGE_')) delete base[k];
    const env = companionEnv(companion.root, o.password, base);
    for (let i = 0; i < (o.count ?? PYTHON_WRITERS); i++) {
      const proc = spawn(
        companion.python,
        [
          '-m',
          COMPANION_PACKAGE,
          'suite-worker',
          '--redis',
          o.url,
          '--prefix',
          o.prefix,
          '--sqlite',
          o.sqlitePath,
          '--study',
          o.study,
          '--worker',
          String(i),
        ],
        { env, cwd: o.cwd, stdio: ['pipe', 'pipe', 'pipe'] },
      );
      const w: Worker = {
        proc,
        stderr: '',
        exited: new Promise((resolve) => proc.once('close', () => resolve())),
      };
      proc.on('error', (e) => this.errors.push(`writer ${i}: ${e.message}`));
      proc.stdin!.on('error', () => undefined); // a writer that died: reported by its exit
      let pending = '';
      proc.stdout!.setEncoding('utf8').on('data', (d: string) => {
        pending += d;
        const lines = pending.split('\n');
        pending = lines.pop() ?? '';
        for (const line of lines) this.onLine(i, w, line);
      });
      proc.stderr!.setEncoding('utf8').on('data', (d: string) => {
        w.stderr = (w.stderr + d).slice(-4000);
      });
      proc.once('close', (code, sig) => {
        if (!w.done && !this.stopping)
          this.errors.push(
            `writer ${i} exited (${sig ?? `exit ${code}`}) before it was stopped: ${lastLine(w.stderr)}`,
          );
      });
      this.workers.push(w);
    }
  }

  private onLine(i: number, w: Worker, line: string): void {
    let e: Record<string, unknown>;
    try {
      e = JSON.parse(line) as Record<string, unknown>;
    } catch {
      return; // not one of the worker's lines (a library printing to stdout)
    }
    if (e.event === 'trial')
      this.trials.push({
        worker: i,
        token: String(e.token),
        number: Number(e.number),
        value: Number(e.value),
        storage: String(e.storage),
        pending: Number(e.pending),
        at: Number(e.t) * 1000,
      });
    else if (e.event === 'done') {
      w.done = {
        status: (e.status ?? {}) as Record<string, unknown>,
        errors: e.errors as string[],
      };
      for (const err of w.done.errors ?? []) this.errors.push(`writer ${i}: ${lastLine(err)}`);
    }
  }

  get count(): number {
    return this.workers.length;
  }

  /** Whether every writer told a trial satisfying `pred`. */
  each(pred: (t: WriterTrial) => boolean): boolean {
    return this.workers.every((_, i) => this.trials.some((t) => t.worker === i && pred(t)));
  }

  /**
   * The time from `since` until the last writer to do so told a trial on `storage` (each
   * writer's first such trial after `since`); null unless every writer did.
   */
  slowest(storage: string, since: number): number | null {
    let worst = 0;
    for (let i = 0; i < this.workers.length; i++) {
      const first = this.trials.find(
        (t) => t.worker === i && t.storage === storage && t.at >= since,
      );
      if (!first) return null;
      worst = Math.max(worst, first.at - since);
    }
    return Math.round(worst);
  }

  /** Waits until every writer told a trial satisfying `pred`; false after `timeoutMs`. */
  waitEach(
    pred: (t: WriterTrial) => boolean,
    timeoutMs: number,
    signal: AbortSignal,
  ): Promise<boolean> {
    return pollUntil(() => this.errors.length > 0 || this.each(pred), timeoutMs, signal).then(
      (ok) => ok && this.errors.length === 0,
    );
  }

  /**
   * Stops the writers. `settle`: each first waits until its storage is back on Redis and has
   * reconciled its SQLite trials (as a finishing optimizer does). Killed after `graceMs`.
   */
  async stop(settle: boolean, graceMs = 90_000): Promise<void> {
    this.stopping = true;
    for (const w of this.workers) {
      try {
        w.proc.stdin!.end(settle ? 'settle\n' : 'stop\n');
      } catch (e) {
        this.errors.push(`stopping a writer: ${errorMessage(e)}`);
      }
    }
    const all = Promise.all(this.workers.map((w) => w.exited));
    let timer: NodeJS.Timeout | undefined;
    const late = await Promise.race([
      all.then(() => false),
      new Promise<boolean>((r) => (timer = setTimeout(() => r(true), graceMs))),
    ]);
    clearTimeout(timer);
    if (late) {
      this.errors.push(`writers still running ${graceMs} ms after they were asked to stop: killed`);
      this.kill();
      await all;
    }
    for (const [i, w] of this.workers.entries())
      if (!w.done) this.errors.push(`writer ${i} ended without its summary: ${lastLine(w.stderr)}`);
  }

  /** Where each writer's storage ended (redis, sqlite, held ...), from its summary. */
  finalStorage(): string[] {
    return this.workers.map((w) => String(w.done?.status.current_storage ?? 'unknown'));
  }

  kill(): void {
    this.stopping = true;
    for (const w of this.workers)
      if (w.proc.exitCode === null && w.proc.signalCode === null) w.proc.kill('SIGKILL');
  }

  /** Kills whatever still runs and waits for every writer to be gone. */
  async dispose(): Promise<void> {
    this.kill();
    await Promise.all(this.workers.map((w) => w.exited));
  }
}

function lastLine(text: string): string {
  return text.trim().split('\n').pop() ?? '';
}

/**
 * Lost and duplicated trials: each told trial must be in `study` exactly once, finished with
 * its value. `running`: trials left RUNNING, counted once the writers have `stopped` (while
 * they run, each has one in flight).
 */
export function tallyWriters(
  told: readonly WriterTrial[],
  study: Study | undefined,
  stopped: boolean,
): { checked: number; lost: number; duplicated: number; running: number | null } {
  const byToken = new Map<string, Array<{ state: string; value: unknown }>>();
  let running = 0;
  for (const t of study?.trials ?? []) {
    if (t.state === 'RUNNING') running++;
    const token = t.userAttrs[TOKEN_ATTR];
    if (typeof token !== 'string') continue;
    const list = byToken.get(token) ?? [];
    list.push({ state: t.state, value: t.values?.[0] });
    byToken.set(token, list);
  }
  let lost = 0;
  let duplicated = 0;
  for (const t of told) {
    const found = byToken.get(t.token) ?? [];
    if (found.length > 1) duplicated += found.length - 1;
    if (!found.some((f) => f.state === 'COMPLETE' && Number(f.value) === t.value)) lost++;
  }
  return { checked: told.length, lost, duplicated, running: stopped ? running : null };
}
