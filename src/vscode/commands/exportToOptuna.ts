import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { describeEndpoint, parseRedisUrl } from '../../core/redis/url';
import type { MergedStudy } from '../../core/storage/mergedView';
import type { StorageSpec } from '../../core/storage/storageSpec';
import { type ExportResult, exportStudy } from '../../core/storage/studyTransfer';
import { studyFrom } from '../pickers';
import { isCancelled, withCancellableProgress } from '../progress';
import type { Services } from '../services';
import { requireTrust } from '../trust';
import type { Node } from '../views/nodes';

const FORMATS: Array<vscode.QuickPickItem & { ext: string; filter: Record<string, string[]> }> = [
  {
    label: 'Optuna journal file (.log)',
    description: 'JournalFileStorage: the records optuna.copy_study writes',
    ext: 'log',
    filter: { 'Optuna journal file': ['log'] },
  },
  {
    label: 'Optuna SQLite file (.db)',
    description: 'RDBStorage("sqlite:///…"), Optuna 3.1 schema; newer Optuna upgrades it',
    ext: 'db',
    filter: { 'Optuna SQLite file': ['db', 'sqlite', 'sqlite3'] },
  },
];

/** Where a study is read from for an exact copy: its Redis journal, else the SQLite file. */
export async function studySource(
  s: Services,
  study: MergedStudy,
): Promise<{ spec: StorageSpec; label: string; password?: string; note?: string }> {
  const url = s.store.settings.redisUrl;
  if (study.redis && url) {
    const onlySqlite = study.trials.filter((t) => t.source === 'sqlite').length;
    return {
      spec: { kind: 'redis', url, prefix: study.prefix ?? '' },
      label: `${describeEndpoint(parseRedisUrl(url))} prefix ${JSON.stringify(study.prefix ?? '')}`,
      password: await s.passwords
        .get(url, s.store.settings.sentinel)
        .then(undefined, () => undefined),
      note: onlySqlite
        ? `${onlySqlite} trial${onlySqlite === 1 ? '' : 's'} only in the SQLite fallback ${onlySqlite === 1 ? 'is' : 'are'} not in the journal and so not in the file.`
        : undefined,
    };
  }
  const file = s.store.settings.sqlitePath;
  if (!study.sqlite || !file)
    throw new Error(`study "${study.name}" has no storage to copy it from`);
  return { spec: { kind: 'sqlite', path: file }, label: file };
}

/**
 * "Export Study to an Optuna File…": the study as a new Optuna journal file or SQLite file
 * (the exact export of `optuna-storage export`), with progress, Cancel, and the read-back
 * verification reported.
 */
export async function exportToOptuna(s: Services, node?: Node): Promise<ExportResult | undefined> {
  if (!requireTrust('Exporting a study to an Optuna file')) return undefined;
  const study = await studyFrom(s.store, node, 'Export which study to an Optuna file?');
  if (!study) return undefined;
  const format = await vscode.window.showQuickPick(FORMATS, {
    placeHolder: `Copy "${study.name}" (${study.trials.length} trials) into a new`,
  });
  if (!format) return undefined;
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
  const uri = await vscode.window.showSaveDialog({
    defaultUri: folder
      ? vscode.Uri.joinPath(folder, `${study.name.replace(/[^\w.-]+/g, '_')}.${format.ext}`)
      : undefined,
    filters: format.filter,
    saveLabel: 'Export',
    title: `Export "${study.name}" as an ${format.label}`,
  });
  if (!uri) return undefined;
  const to = uri.fsPath;
  if (fs.existsSync(to)) {
    void vscode.window.showErrorMessage(
      `${to} already exists: an export writes a new file and never replaces one. Choose another name.`,
    );
    return undefined;
  }
  const source = await studySource(s, study);
  try {
    const r = await withCancellableProgress(`Exporting "${study.name}"`, (report, signal) =>
      exportStudy({
        source: source.spec,
        sourceLabel: source.label,
        study: study.name,
        to,
        redis: {
          password: source.password,
          sentinel: s.store.settings.sentinel,
          connectionName: 'optuna-storage-export',
        },
        signal,
        onProgress: (p) => {
          s.log.info(`export: ${p.message}`);
          report(p.message);
        },
      }),
    );
    const what = r.format === 'journal' ? 'Optuna journal file' : 'Optuna SQLite file';
    s.log.info(`export: "${study.name}" → ${to}: ${r.trials} trials, read back and verified`);
    const reveal = 'Reveal in Explorer';
    void vscode.window
      .showInformationMessage(
        `Exported "${study.name}" to ${path.basename(to)} (${what}): ${r.trials} trials. Read back and verified: name, directions, attributes and every trial equal ${source.label}.${source.note ? ` ${source.note}` : ''}`,
        reveal,
      )
      .then((pick) => (pick ? vscode.commands.executeCommand('revealInExplorer', uri) : undefined));
    return r;
  } catch (e) {
    if (isCancelled(e)) {
      void vscode.window.showInformationMessage(`Export of "${study.name}" cancelled.`);
    } else {
      s.log.error(`export: ${(e as Error).message}`);
      void vscode.window.showErrorMessage(
        `Export of "${study.name}" failed: ${(e as Error).message}`,
      );
    }
    return undefined;
  }
}
