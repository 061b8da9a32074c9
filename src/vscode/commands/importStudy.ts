import * as path from 'node:path';
import * as vscode from 'vscode';
import { readOnce } from '../../core/storage/readOnce';
import { parseStorageSpec } from '../../core/storage/storageSpec';
import { type ImportResult, importStudy } from '../../core/storage/studyTransfer';
import { isCancelled, withCancellableProgress } from '../progress';
import type { Services } from '../services';
import { requireTrust } from '../trust';
import type { Node } from '../views/nodes';

/** The journal prefix to import into: the node's, or one picked (existing or new). */
async function prefixFrom(s: Services, node: Node | undefined): Promise<string | undefined> {
  if (node?.kind === 'prefix') return node.prefix;
  const known = s.store.current?.prefixes().prefixes ?? [];
  const NEW = '$(add) Another prefix…';
  const pick = await vscode.window.showQuickPick(
    [
      ...known.map((p) => ({
        label: p === '' ? '"" (Optuna\'s default)' : JSON.stringify(p),
        description: `${s.store.studies().filter((x) => x.redis && x.prefix === p).length} studies`,
        prefix: p as string | undefined,
      })),
      { label: NEW, description: 'JournalRedisStorage(url, prefix=…)', prefix: undefined },
    ],
    { placeHolder: 'Import into which journal prefix?' },
  );
  if (!pick) return undefined;
  if (pick.prefix !== undefined) return pick.prefix;
  return vscode.window.showInputBox({
    title: 'Journal prefix to import into',
    prompt: "The prefix the optimizers pass to JournalRedisStorage (empty: Optuna's default)",
    value: '',
    ignoreFocusOut: true,
  });
}

/**
 * "Import Study into Redis…": a study of an Optuna journal file or SQLite file appended to a
 * Redis journal prefix with Optuna's own append (the exact import of `optuna-storage
 * import`), refused when the name exists there; Cancel deletes the partial copy; the
 * read-back verification is reported.
 */
export async function importStudyIntoRedis(
  s: Services,
  node?: Node,
): Promise<ImportResult | undefined> {
  if (!requireTrust('Importing a study into Redis')) return undefined;
  const client = s.store.current?.redisClient;
  const where = s.store.current?.redisWhere;
  if (!client || !where || s.store.state.state !== 'redis') {
    void vscode.window.showErrorMessage(
      'Redis is not reachable now: a study can only be imported into a running Redis (Start Redis, or Configure Connection).',
    );
    return undefined;
  }
  const files = await vscode.window.showOpenDialog({
    canSelectMany: false,
    openLabel: 'Import',
    title: 'Import a study from an Optuna journal file or SQLite file',
    defaultUri: vscode.workspace.workspaceFolders?.[0]?.uri,
    filters: {
      'Optuna journal or SQLite file': ['log', 'db', 'sqlite', 'sqlite3'],
      'All files': ['*'],
    },
  });
  const file = files?.[0]?.fsPath;
  if (!file) return undefined;
  const spec = parseStorageSpec(file);
  const studies = (
    await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Reading ${path.basename(file)}…` },
      () => readOnce(spec),
    )
  ).studies;
  if (studies.length === 0) {
    void vscode.window.showErrorMessage(`${file} holds no study.`);
    return undefined;
  }
  const study =
    studies.length === 1
      ? studies[0]
      : (
          await vscode.window.showQuickPick(
            studies.map((x) => ({
              label: x.name,
              description: `${x.trials.length} trials · ${x.directions.map((d) => d.toLowerCase()).join('/')}`,
              study: x,
            })),
            { placeHolder: `Import which study of ${path.basename(file)}?` },
          )
        )?.study;
  if (!study) return undefined;
  const prefix = await prefixFrom(s, node);
  if (prefix === undefined) return undefined;
  const into = `prefix ${JSON.stringify(prefix)} of ${where}`;
  try {
    const r = await withCancellableProgress(
      `Importing "${study.name}" into ${into}`,
      (report, signal) =>
        importStudy({
          source: spec,
          sourceLabel: file,
          study: study.name,
          redis: client,
          prefix,
          signal,
          onProgress: (p) => {
            s.log.info(`import: ${p.message}`);
            report(p.message);
          },
        }),
    );
    s.log.info(`import: "${r.studyName}" → ${into} as study_id ${r.studyId}, verified`);
    void vscode.window.showInformationMessage(
      `Imported "${r.studyName}" into ${into} as study_id ${r.studyId}: ${r.trials} trials in ${r.records} journal entries. Read back and verified: every trial equals ${path.basename(file)}.`,
    );
    await s.refresh.refresh('wrote');
    return r;
  } catch (e) {
    const msg = (e as Error).message;
    if (isCancelled(e)) {
      void vscode.window.showInformationMessage(
        /partial copy was deleted/.test(msg)
          ? `Import of "${study.name}" cancelled: the part already appended was deleted again (a DELETE_STUDY record, as Optuna deletes).`
          : `Import of "${study.name}" cancelled: nothing was written.`,
      );
    } else {
      s.log.error(`import: ${msg}`);
      void vscode.window.showErrorMessage(`Import of "${study.name}" failed: ${msg}`);
    }
    await s.refresh.refresh('wrote');
    return undefined;
  }
}
