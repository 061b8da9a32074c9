import * as vscode from 'vscode';
import { readEveryJournal } from '../../core/storage/readEveryJournal';
import { type BackupEntry, defaultBackupRoot, listBackups } from '../../core/redis/backup';
import {
  type DeployedConfig,
  NotDeployedError,
  readDeployedConfig,
} from '../../core/redis/deployedConfig';
import { ConfigValidationError } from '../../core/redis/redisProcess';
import { describeJournals } from '../../core/redis/journalCheck';
import {
  type RestorePlan,
  type RestoreResult,
  executeRestore,
  formatBytes,
  planRestore,
} from '../../core/redis/restore';
import { Cancelled, withCancellableProgress } from '../progress';
import type { ReportDocuments } from '../reportDocuments';
import type { Services } from '../services';
import { backupSettings, deployTarget } from '../settings';
import { requireTrust } from '../trust';
import { describeBackup } from './backupRedis';
import { offerDeploy } from './startRedis';

const RESTORE = 'Restore';

/** The modal's words: what happens to the current data first, then every step. */
function confirmation(plan: RestorePlan): { message: string; detail: string } {
  const c = plan.config;
  const when = new Date(plan.options.backup.manifest.createdAt).toLocaleString();
  const current = plan.current.length
    ? `The current data (${plan.current.map((d) => d.name).join(', ')}, ${formatBytes(plan.current.reduce((n, d) => n + d.bytes, 0))}) is moved to ${plan.aside}: kept, not deleted. Delete that folder yourself once you no longer need it.`
    : `The data directory ${c.dir} holds no data now: nothing is replaced.`;
  const others = plan.running?.otherClients ?? 0;
  const stop = plan.running
    ? `Redis on ${c.host}:${c.port} is stopped with SHUTDOWN SAVE first (its data saved in full).${others ? ` ${others} other client${others === 1 ? ' is' : 's are'} connected to it now: stop the optimizer workers before restoring, since a worker that runs on through a restore has already read journal entries the backup does not have, and its view of the studies would no longer match the journal.` : ''}`
    : `Redis is not running on ${c.host}:${c.port}; it is started on the backup.`;
  return {
    message: `Restore the backup of ${when} into Redis on ${c.host}:${c.port}?`,
    detail: `${current}\n\n${stop}\n\nEverything written since the backup was taken is then only in that folder.\n\nSteps:\n${plan.actions.map((a, i) => `${i + 1}. ${a}`).join('\n')}`,
  };
}

function report(plan: RestorePlan, r: RestoreResult): string {
  const b = plan.options.backup;
  const problems = r.journals.filter((j) => j.issues?.length);
  return [
    `# Redis restored from ${b.name}`,
    '',
    `- **Backup:** ${b.path}, taken ${new Date(b.manifest.createdAt).toLocaleString()} (${describeBackup(b)})`,
    `- **Server:** ${plan.config.host}:${plan.config.port}, config ${plan.config.target}`,
    `- **Replaced data, kept:** ${r.aside}`,
    '',
    '## Journals read back',
    '',
    ...describeJournals(r.journals).map((l) => `- ${l}`),
    ...(problems.length
      ? [
          '',
          'The backup itself holds these missing or unreadable entries:',
          ...problems.flatMap((j) =>
            j.issues!.slice(0, 10).map((i) => `- "${j.prefix}": ${i.message}`),
          ),
        ]
      : []),
    '',
    '## Steps',
    '',
    ...r.done.map((d, i) => `${i + 1}. ${d}`),
    '',
  ].join('\n');
}

/**
 * "Restore Redis from a Backup…": a backup picked by time (size, AOF or not) is put back into
 * the deployed server after a modal confirmation that says what happens to the current data
 * (moved aside, never deleted); then PONG and every journal prefix read back.
 */
export async function restoreRedis(
  s: Services,
  docs: ReportDocuments,
): Promise<RestoreResult | undefined> {
  if (!requireTrust('Restoring Redis from a backup')) return undefined;
  const target = deployTarget();
  let config: DeployedConfig;
  try {
    config = readDeployedConfig(target);
  } catch (e) {
    if (e instanceof NotDeployedError) await offerDeploy(target, 'restore into');
    else void vscode.window.showErrorMessage(`Cannot read ${target}: ${(e as Error).message}`);
    return undefined;
  }
  const root = backupSettings().dir ?? defaultBackupRoot(config.dir);
  const backups = listBackups(root);
  if (backups.length === 0) {
    void vscode.window.showInformationMessage(
      `No backups in ${root} yet. Back Up Redis makes one (optunaStorage.backup.dir chooses the folder).`,
    );
    return undefined;
  }
  const pick = await vscode.window.showQuickPick(
    backups.map((b) => ({
      label: new Date(b.manifest.createdAt).toLocaleString(),
      description: describeBackup(b),
      detail: `${b.name} · Redis ${b.manifest.server.version} · ${b.manifest.server.endpoint}`,
      backup: b,
    })),
    {
      title: `Restore Redis on ${config.host}:${config.port} from a backup in ${root}`,
      placeHolder: 'Pick the backup to restore (newest first)',
      matchOnDetail: true,
    },
  );
  if (!pick) return undefined;
  const backup: BackupEntry = pick.backup;
  const url = s.store.settings.redisUrl;
  const password = url ? await s.passwords.get(url).then(undefined, () => undefined) : undefined;
  let plan: RestorePlan;
  try {
    plan = await vscode.window.withProgress(
      {
        location: vscode.ProgressLocation.Notification,
        title: 'Checking the backup and the server…',
      },
      () => planRestore({ target, backup, password }),
    );
  } catch (e) {
    void vscode.window.showErrorMessage(
      `Restore stopped before changing anything: ${(e as Error).message}`,
    );
    return undefined;
  }
  const { message, detail } = confirmation(plan);
  if (
    (await vscode.window.showWarningMessage(message, { modal: true, detail }, RESTORE)) !== RESTORE
  )
    return undefined;
  try {
    const r = await withCancellableProgress(`Restoring Redis from ${backup.name}`, (rep, signal) =>
      executeRestore(plan, {
        readBack: readEveryJournal,
        signal,
        onStep: (m) => {
          s.log.info(`restore: ${m}`);
          rep(m);
        },
      }),
    );
    await s.store.start();
    await docs.showRendered('Redis Restore.md', report(plan, r));
    void vscode.window.showInformationMessage(
      `Restored the backup of ${new Date(backup.manifest.createdAt).toLocaleString()}: Redis is up on ${config.host}:${config.port}, ${describeJournals(r.journals).join('; ')}. The replaced data is in ${r.aside}.`,
    );
    return r;
  } catch (e) {
    if (e instanceof Cancelled) {
      void vscode.window.showInformationMessage(
        'Restore cancelled before Redis was stopped: nothing changed.',
      );
    } else if (e instanceof ConfigValidationError) {
      void vscode.window.showErrorMessage(
        `Restore stopped before changing anything: ${e.message}. Correct ${config.target} (or deploy again), then restore.`,
      );
    } else {
      s.log.error(`restore: ${(e as Error).message}`);
      void vscode.window.showErrorMessage(`Restore failed: ${(e as Error).message}`);
    }
    await s.store.start();
    return undefined;
  }
}
