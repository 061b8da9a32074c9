import * as vscode from 'vscode';

/**
 * Commands that write files, change storage or start processes run only in a trusted
 * workspace (package.json also disables them there through `enablement`).
 */
export function requireTrust(action: string): boolean {
  if (vscode.workspace.isTrusted) return true;
  void vscode.window
    .showWarningMessage(
      `${action} needs a trusted workspace: this window is in Restricted Mode. Browsing studies still works.`,
      'Manage Workspace Trust',
    )
    .then((pick) => {
      if (pick) void vscode.commands.executeCommand('workbench.trust.manage');
    });
  return false;
}
