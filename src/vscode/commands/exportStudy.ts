import * as path from 'node:path';
import * as vscode from 'vscode';
import { studyAsCsv, studyAsJson } from '../../core/optuna/exportStudy';
import { studyFrom } from '../pickers';
import type { Services } from '../services';
import { requireTrust } from '../trust';
import type { Node } from '../views/nodes';

/** Writes a study (all its trials, merged from both sources) to a CSV or JSON file. */
export async function exportStudy(s: Services, node?: Node): Promise<vscode.Uri | undefined> {
  if (!requireTrust('Exporting a study')) return undefined;
  const study = await studyFrom(s.store, node, 'Export which study?');
  if (!study) return undefined;
  const format = await vscode.window.showQuickPick(
    [
      { label: 'CSV', description: 'columns as optuna trials_dataframe()', ext: 'csv' },
      { label: 'JSON', description: 'the optuna-storage dump format, exact values', ext: 'json' },
    ],
    { placeHolder: `Export "${study.name}" (${study.trials.length} trials) as` },
  );
  if (!format) return undefined;
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
  const safeName = study.name.replace(/[^\w.-]+/g, '_');
  const uri = await vscode.window.showSaveDialog({
    defaultUri: folder ? vscode.Uri.joinPath(folder, `${safeName}.${format.ext}`) : undefined,
    filters: { [format.label]: [format.ext] },
    saveLabel: 'Export',
  });
  if (!uri) return undefined;
  const base = (study.redis ?? study.sqlite)!;
  const trials = study.trials.map((t) => t.trial);
  const text = format.ext === 'csv' ? studyAsCsv(base, trials) : studyAsJson(base, trials);
  await vscode.workspace.fs.writeFile(uri, Buffer.from(text, 'utf8'));
  s.log.info(`exported study "${study.name}" (${trials.length} trials) to ${uri.fsPath}`);
  void vscode.window
    .showInformationMessage(`Exported "${study.name}" to ${path.basename(uri.fsPath)}.`, 'Open')
    .then((o) => o && vscode.window.showTextDocument(uri));
  return uri;
}
