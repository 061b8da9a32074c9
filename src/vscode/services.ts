import type * as vscode from 'vscode';
import type { RefreshManager } from './refreshManager';
import type { PasswordStore } from './secrets';
import type { StatusBar } from './statusBar';
import type { MergedStudy } from '../core/storage/mergedView';
import type { StoreService } from './storeService';
import type { Node } from './views/nodes';
import type { StudiesProvider } from './views/studiesProvider';
import type { TrialsProvider } from './views/trialsProvider';
import type { WritersService } from './writersService';

/** What commands work with; built once in activate(), passed explicitly (no globals). */
export interface Services {
  context: vscode.ExtensionContext;
  log: vscode.LogOutputChannel;
  store: StoreService;
  passwords: PasswordStore;
  studies: StudiesProvider;
  trials: TrialsProvider;
  studiesView: vscode.TreeView<Node>;
  trialsView: vscode.TreeView<Node>;
  refresh: RefreshManager;
  statusBar: StatusBar;
  /** The writers' side: which storage each process of the Python storage writes to. */
  writers: WritersService;
  /** The study pages (webview panels), one per study. */
  studyPages: StudyPageOpener;
  /** Epoch ms when activate() began (for the activation-to-first-studies benchmark). */
  activatedAt: number;
}

/** What commands need of the study pages (vscode/studyPage/studyPages.ts implements it). */
export interface StudyPageOpener {
  /** Opens the page of a study, or reveals it when it is open. */
  open(study: MergedStudy): unknown;
}
