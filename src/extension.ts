import * as vscode from 'vscode';

export function activate(context: vscode.ExtensionContext): void {
  const log = vscode.window.createOutputChannel('Optuna Storage', { log: true });
  context.subscriptions.push(log);
  log.info('Optuna Storage Manager activated');
}

export function deactivate(): void {}
