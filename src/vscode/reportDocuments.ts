import * as vscode from 'vscode';
import { Disposable } from './lifecycle';

/**
 * Read-only Markdown documents for generated reports (storage health, Redis doctor): no
 * "save changes?" prompt when they are closed, and re-showing one updates it in place.
 */
export class ReportDocuments extends Disposable implements vscode.TextDocumentContentProvider {
  static readonly scheme = 'optuna-storage';
  private readonly texts = new Map<string, string>();
  private readonly changed = this._register(new vscode.EventEmitter<vscode.Uri>());
  readonly onDidChange = this.changed.event;

  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.texts.get(uri.path) ?? '';
  }

  async show(name: string, text: string): Promise<vscode.TextEditor> {
    const doc = await this.update(name, text);
    return vscode.window.showTextDocument(doc, { preview: true });
  }

  /** Shows the report rendered (VS Code's Markdown preview), as a person reads a report. */
  async showRendered(name: string, text: string): Promise<vscode.Uri> {
    const doc = await this.update(name, text);
    await vscode.commands.executeCommand('markdown.showPreview', doc.uri);
    return doc.uri;
  }

  private async update(name: string, text: string): Promise<vscode.TextDocument> {
    const uri = vscode.Uri.from({ scheme: ReportDocuments.scheme, path: name });
    this.texts.set(uri.path, text);
    this.changed.fire(uri);
    const doc = await vscode.workspace.openTextDocument(uri);
    return vscode.languages.setTextDocumentLanguage(doc, 'markdown');
  }
}
