import * as vscode from 'vscode';
import { deleteJournalStudy, deleteSqliteStudy } from '../../core/storage/deleteStudy';
import { studyFrom } from '../pickers';
import type { Services } from '../services';
import { requireTrust } from '../trust';
import type { Node } from '../views/nodes';

/**
 * Deletes a study the way Optuna does (a DELETE_STUDY journal record in Redis; the study's
 * rows in SQLite), after a modal confirmation that names the study, its trial count and where.
 */
export async function deleteStudy(s: Services, node?: Node): Promise<boolean> {
  if (!requireTrust('Deleting a study')) return false;
  const study = await studyFrom(s.store, node, 'Delete which study?');
  if (!study) return false;
  const where = [
    study.redis
      ? `the Redis journal ${s.store.current?.redisWhere ?? ''} (prefix "${study.prefix}")`
      : undefined,
    study.sqlite ? `the SQLite file ${s.store.settings.sqlitePath}` : undefined,
  ]
    .filter(Boolean)
    .join(' and ');
  const answer = await vscode.window.showWarningMessage(
    `Delete study "${study.name}" with ${study.trials.length} trial${study.trials.length === 1 ? '' : 's'}?`,
    {
      modal: true,
      detail: `It is deleted from ${where}, as optuna.delete_study would. Optuna and every reader will no longer list it. This cannot be undone from here.`,
    },
    'Delete Study',
  );
  if (answer !== 'Delete Study') return false;
  try {
    if (study.redis) {
      const client = s.store.current?.redisClient;
      if (!client || s.store.state.state !== 'redis')
        throw new Error('Redis is not reachable now; nothing was deleted');
      await deleteJournalStudy(client, study.prefix ?? '', study.redis.studyId);
    }
    if (study.sqlite) deleteSqliteStudy(s.store.settings.sqlitePath!, study.sqlite.studyId);
  } catch (e) {
    void vscode.window.showErrorMessage(
      `Could not delete study "${study.name}": ${(e as Error).message}`,
    );
    return false;
  }
  s.log.info(`deleted study "${study.name}" (${study.trials.length} trials) from ${where}`);
  // A fresh read: one already in flight began before the deletion.
  await s.refresh.refresh('wrote');
  s.studies.refresh();
  s.trials.refresh();
  return true;
}
