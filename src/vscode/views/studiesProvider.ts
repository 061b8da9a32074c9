import * as vscode from 'vscode';
import { Disposable } from '../lifecycle';
import { fallbackReason } from '../../core/storage/fallbackFile';
import type { MergedStudy, MergedTrial } from '../../core/storage/mergedView';
import type { StoreService } from '../storeService';
import { type Node, sectionChildren, toTreeItem, trialSections } from './nodes';
import { redisActionNodes, redisRefusedHere } from './redisActions';
import { storeStateNodes } from './stateNodes';
import { bestTrial, orderTrials } from './trialOrder';
import { issueEntries } from '../../core/optuna/model';

/** How often the "Loading studies…" row shows the first read's progress anew. */
const LOADING_REDRAW_MS = 500;

const count = (n: number) => n.toLocaleString('en-US');

/**
 * The Studies view: studies grouped by Redis server and journal prefix, and by SQLite file;
 * a study lists its best trial and its trials (paged). States that need the user's attention
 * (loading, Redis unreachable, nothing found) are nodes with a next step, not pop-ups.
 */
export class StudiesProvider extends Disposable implements vscode.TreeDataProvider<Node> {
  private readonly changed = this._register(new vscode.EventEmitter<Node | undefined>());
  readonly onDidChangeTreeData = this.changed.event;
  /** Trials shown per study (grows with "Load more"). */
  private readonly shown = new Map<string, number>();
  /** A trial a study page selected that is not among the loaded ones, shown under its study. */
  private readonly pinned = new Map<string, MergedTrial>();

  constructor(private readonly service: StoreService) {
    super();
    this._register({ dispose: () => clearTimeout(this.loadingTimer) });
  }

  private loadingTimer: NodeJS.Timeout | undefined;

  /** Renders the loading row again in a moment, until the first read is done. */
  private lookAgainWhileLoading(): void {
    if (this.loadingTimer || this.isDisposed) return;
    this.loadingTimer = setTimeout(() => {
      this.loadingTimer = undefined;
      if (!this.service.loaded) this.refresh();
    }, LOADING_REDRAW_MS);
  }

  refresh(node?: Node): void {
    this.changed.fire(node);
  }

  getTreeItem(n: Node): vscode.TreeItem {
    return toTreeItem(n);
  }

  loadMore(studyKey: string): void {
    this.shown.set(
      studyKey,
      (this.shown.get(studyKey) ?? this.service.settings.pageSize) + this.service.settings.pageSize,
    );
    this.refresh();
  }

  /** For reveal(): a study's prefix (or SQLite file) node, a prefix's server, a trial's study. */
  getParent(n: Node): Node | undefined {
    const roots = this.roots();
    switch (n.kind) {
      case 'prefix':
        return roots.find((r) => r.kind === 'server');
      case 'study': {
        if (!n.study.redis) return roots.find((r) => r.kind === 'sqliteFile');
        const server = roots.find((r) => r.kind === 'server');
        return (
          server &&
          this.getChildren(server).find((p) => p.kind === 'prefix' && p.prefix === n.study.prefix)
        );
      }
      case 'trial':
        return { kind: 'study', id: `study:${n.study.key}`, study: n.study };
      default:
        return undefined;
    }
  }

  /** Selects a trial in the tree (a study page's row), pinning it under its study when it is not loaded. */
  async revealTrial(
    view: vscode.TreeView<Node>,
    study: MergedStudy,
    trial: MergedTrial,
  ): Promise<void> {
    const base = `study:${study.key}`;
    const id = `${base}/t/${trial.source === 'sqlite' ? 's' : 'r'}${trial.trial.trialId}`;
    let node = this.getChildren({ kind: 'study', id: base, study }).find((c) => c.id === id);
    if (!node) {
      this.pinned.set(study.key, trial);
      this.refresh();
      node = {
        kind: 'trial',
        id: `${base}/selected`,
        studyKey: study.key,
        study,
        trial,
        pinned: true,
      };
    }
    await view.reveal(node, { select: true, focus: false, expand: false });
  }

  getChildren(n?: Node): Node[] {
    if (!n) return this.roots();
    switch (n.kind) {
      case 'server':
        if (n.prefixes.length === 0)
          return [
            {
              kind: 'message',
              id: `${n.id}/none`,
              label: 'No Optuna journal on this server yet',
              detail: 'the first study an optimizer creates here starts one',
              icon: 'info',
              command: { command: 'optunaStorage.runs.launch', title: 'Launch Optimizer Run…' },
            },
          ];
        return n.prefixes.map((prefix) => ({ kind: 'prefix', id: `${n.id}/p/${prefix}`, prefix }));
      case 'prefix':
        return this.studyNodes(
          this.service.studies().filter((s) => s.redis && s.prefix === n.prefix),
          `prefix "${n.prefix}"`,
        );
      case 'sqliteFile':
        return this.studyNodes(
          this.service.studies().filter((s) => !s.redis),
          'the SQLite file',
        );
      case 'study':
        return this.studyChildren(n.study);
      case 'trial':
        return trialSections(n.id, n.trial.trial);
      case 'section':
        return sectionChildren(n);
      default:
        return [];
    }
  }

  private roots(): Node[] {
    const svc = this.service;
    if (!svc.loaded) {
      // A first read of a large journal takes seconds: how far it got, looked at again soon.
      const p = svc.current?.progress();
      this.lookAgainWhileLoading();
      return [
        {
          kind: 'message',
          id: 'loading',
          label: 'Loading studies…',
          detail: p && `${count(p.read)} of ${count(p.total)} journal entries`,
          icon: 'loading~spin',
        },
      ];
    }
    const out: Node[] = [];
    const st = svc.state;
    const store = svc.current;
    const where = store?.redisWhere;
    out.push(...storeStateNodes(st, where, svc.settings.fallback));
    const studies = svc.studies();
    if (svc.lastError)
      out.push({
        kind: 'message',
        id: 'error',
        label: 'Last refresh had a problem',
        detail: svc.lastError,
        icon: 'warning',
        color: 'list.warningForeground',
      });
    if (store && where) {
      const { prefixes } = store.prefixes();
      const read = store.redisReadAt ? new Date(store.redisReadAt).toLocaleTimeString() : undefined;
      const desc =
        st.state === 'redis'
          ? `${st.degraded ? 'degraded' : 'healthy'}${st.latencyMs !== undefined ? ` · ${st.latencyMs.toFixed(1)} ms` : ''}`
          : `unreachable${read ? ` · last read ${read}` : ''}`;
      // A healthy server without a journal is still shown: it is where the studies will be.
      const noJournal = st.state === 'redis' && prefixes.length === 0;
      if (prefixes.length > 0 || noJournal)
        out.push({
          kind: 'server',
          id: 'server',
          // The scheme only when it says something (TLS): the row has little room.
          label: where.replace(/^redis:\/\//, ''),
          description: noJournal ? `${desc} · no Optuna journal yet` : desc,
          prefixes,
          tooltip: `${where}\n${st.detail}`,
        });
      for (const { prefix, issues } of store.issues()) {
        const gaps = issueEntries(issues.filter((i) => i.kind === 'gap'));
        const all = issueEntries(issues);
        out.push({
          kind: 'message',
          id: `issues/${prefix}`,
          label: `Journal "${prefix}": ${all} unreadable entr${all === 1 ? 'y' : 'ies'}${gaps ? ` (${gaps} missing keys)` : ''}`,
          detail: issues[0].message,
          icon: 'warning',
          color: 'list.warningForeground',
          tooltip: issues
            .slice(0, 10)
            .map((i) => i.message)
            .join('\n'),
        });
      }
    }
    if (svc.settings.sqlitePath && studies.some((s) => !s.redis)) {
      out.push({
        kind: 'sqliteFile',
        id: 'sqlite',
        path: svc.settings.sqlitePath,
        tooltip: `${svc.settings.sqlitePath}\n${fallbackReason(svc.settings.fallback)}`,
        description: !where
          ? 'SQLite'
          : st.state === 'sqlite'
            ? 'SQLite fallback (serving)'
            : 'SQLite fallback',
      });
    }
    const journalless = out.some((n) => n.kind === 'server' && n.prefixes.length === 0);
    if (studies.length === 0 && st.state !== 'offline' && !journalless) {
      out.push({
        kind: 'message',
        id: 'empty',
        label: 'No studies yet — start an optimizer run',
        icon: 'info',
        detail: where ? `reading ${where}` : svc.settings.sqlitePath,
      });
    }
    // Next steps: right under the state they answer (Redis refused), or under "No studies yet".
    const actions = redisActionNodes(svc, studies.length === 0);
    const state = out.findIndex((n) => n.id === 'state');
    if (redisRefusedHere(svc) && state >= 0) out.splice(state + 1, 0, ...actions);
    else out.push(...actions);
    return out;
  }

  private studyNodes(studies: MergedStudy[], where: string): Node[] {
    if (studies.length === 0)
      return [
        { kind: 'message', id: `none/${where}`, label: `No studies in ${where}`, icon: 'info' },
      ];
    return studies.map((study) => ({ kind: 'study', id: `study:${study.key}`, study }));
  }

  private studyChildren(study: MergedStudy): Node[] {
    const nodes: Node[] = [];
    const best = bestTrial(study);
    const base = `study:${study.key}`;
    if (best)
      nodes.push({
        kind: 'trial',
        id: `${base}/best`,
        studyKey: study.key,
        study,
        trial: best,
        best: true,
      });
    const pinned = this.pinned.get(study.key);
    if (pinned)
      nodes.push({
        kind: 'trial',
        id: `${base}/selected`,
        studyKey: study.key,
        study,
        trial: study.trials.find((t) => t.trial === pinned.trial) ?? pinned,
        pinned: true,
      });
    const trials = orderTrials(study, 'number');
    const limit = this.shown.get(study.key) ?? this.service.settings.pageSize;
    for (const t of trials.slice(0, limit))
      nodes.push({
        kind: 'trial',
        id: `${base}/t/${t.source === 'sqlite' ? 's' : 'r'}${t.trial.trialId}`,
        studyKey: study.key,
        study,
        trial: t,
      });
    if (trials.length > limit)
      nodes.push({
        kind: 'loadMore',
        id: `${base}/more`,
        studyKey: study.key,
        shown: limit,
        total: trials.length,
      });
    if (trials.length === 0)
      nodes.push({ kind: 'message', id: `${base}/empty`, label: 'No trials yet', icon: 'info' });
    return nodes;
  }
}
