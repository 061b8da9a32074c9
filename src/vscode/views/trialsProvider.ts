import * as vscode from 'vscode';
import { Disposable } from '../lifecycle';
import type { TrialState } from '../../core/optuna/model';
import type { MergedStudy } from '../../core/storage/mergedView';
import type { StoreService } from '../storeService';
import { type Node, sectionChildren, toTreeItem, trialSections } from './nodes';
import { type TrialSort, orderTrials } from './trialOrder';

/**
 * The Trials view: the trials of one study, sorted by number or best value, filtered by
 * state and paged with a "Load more" node so thousands of trials stay smooth.
 */
export class TrialsProvider extends Disposable implements vscode.TreeDataProvider<Node> {
  private readonly changed = this._register(new vscode.EventEmitter<Node | undefined>());
  readonly onDidChangeTreeData = this.changed.event;
  studyKey: string | undefined;
  sort: TrialSort = 'number';
  states = new Set<TrialState>();
  private shown: number;

  constructor(private readonly service: StoreService) {
    super();
    this.shown = service.settings.pageSize;
  }

  refresh(): void {
    this.changed.fire(undefined);
  }

  getTreeItem(n: Node): vscode.TreeItem {
    return toTreeItem(n);
  }

  /** Only first-level rows are ever revealed (sorting scrolls to the top), and they have none. */
  getParent(): Node | undefined {
    return undefined;
  }

  show(studyKey: string): void {
    if (studyKey !== this.studyKey) this.shown = this.service.settings.pageSize;
    this.studyKey = studyKey;
    this.refresh();
  }

  setSort(sort: TrialSort): void {
    this.sort = sort;
    void vscode.commands.executeCommand('setContext', 'optunaStorage.trialSort', sort);
    this.refresh();
  }

  setStates(states: Set<TrialState>): void {
    this.states = states;
    this.shown = this.service.settings.pageSize;
    this.refresh();
  }

  loadMore(): void {
    this.shown += this.service.settings.pageSize;
    this.refresh();
  }

  study(): MergedStudy | undefined {
    return this.studyKey === undefined ? undefined : this.service.findStudy(this.studyKey);
  }

  /** A short line for the view's description: which study, sort and filter. */
  description(): string | undefined {
    const s = this.study();
    if (!s) return undefined;
    const filter = this.states.size > 0 ? ` · ${[...this.states].join('/')}` : '';
    return `${s.name} · ${this.sort === 'best' ? 'best first' : 'by number'}${filter}`;
  }

  getChildren(n?: Node): Node[] {
    if (n?.kind === 'trial') return trialSections(n.id, n.trial.trial);
    if (n?.kind === 'section') return sectionChildren(n);
    if (n) return [];
    if (this.studyKey === undefined) return []; // the view's welcome content explains what to do
    const study = this.study();
    if (!study)
      return [
        {
          kind: 'message',
          id: 'trials:gone',
          label: 'This study is no longer in the store',
          icon: 'info',
        },
      ];
    const trials = orderTrials(study, this.sort, this.states);
    const base = `trials:${study.key}`;
    const nodes: Node[] = trials.slice(0, this.shown).map((t) => ({
      kind: 'trial',
      id: `${base}/${t.source === 'sqlite' ? 's' : 'r'}${t.trial.trialId}`,
      studyKey: study.key,
      study,
      trial: t,
    }));
    if (trials.length > this.shown)
      nodes.push({
        kind: 'loadMore',
        id: `${base}/more`,
        studyKey: study.key,
        shown: this.shown,
        total: trials.length,
      });
    if (trials.length === 0)
      nodes.push({
        kind: 'message',
        id: `${base}/none`,
        label: this.states.size > 0 ? `No ${[...this.states].join('/')} trials` : 'No trials yet',
        icon: 'info',
      });
    return nodes;
  }
}
