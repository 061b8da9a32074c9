import * as vscode from 'vscode';
import type { Services } from '../services';

/** A manual refresh: runs now, with progress on the Studies view; rescans journal prefixes. */
export function refresh(s: Services): Thenable<void> {
  return vscode.window.withProgress({ location: { viewId: 'optunaStorage.studies' } }, async () => {
    await s.refresh.refresh('manual');
    s.studies.refresh();
    s.trials.refresh();
  });
}
