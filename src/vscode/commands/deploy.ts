import * as vscode from 'vscode';
import { type DeployPlan, planDeploy } from '../../core/redis/deploy';
import { DEPLOY_DEFAULTS } from '../../core/redis/deployConfig';
import { executeDeploy } from '../../core/redis/executeDeploy';
import { parseRedisUrl } from '../../core/redis/url';
import { isCancelled, withCancellableProgress } from '../progress';
import type { ReportDocuments } from '../reportDocuments';
import type { Services } from '../services';
import { SECTION, deployTarget } from '../settings';
import { requireTrust } from '../trust';

export function planMarkdown(plan: DeployPlan): string {
  const o = plan.options;
  const lines = [
    `# Deploy Redis for Optuna journals: ${plan.host}:${o.port}`,
    '',
    `- **Config:** ${o.source} → ${o.target}${plan.targetUnchanged ? ' (already identical)' : ''}${plan.backupPath ? `, the current one backed up to ${plan.backupPath}` : ''}`,
    `- **Data dir:** ${o.dataDir}  `,
    `- **Log:** ${o.logFile}  `,
    `- **Running now:** ${plan.running ? `Redis ${plan.running.version}${plan.running.configFile ? ` from ${plan.running.configFile}` : ''}, data in ${plan.running.dir}` : 'nothing on this port'}`,
    '',
    '## What will happen',
    '',
    ...(plan.upToDate
      ? ['Nothing: the running server already is this deployment.']
      : plan.actions.map((a, i) => `${i + 1}. ${a}`)),
  ];
  if (plan.adjustments.length)
    lines.push('', '## Adjusted for this machine', '', ...plan.adjustments.map((a) => `- ${a}`));
  return lines.join('\n') + '\n';
}

/**
 * "Deploy Redis Configuration…": validates the shipped config on a scratch port, shows the
 * plan, and after a modal confirmation backs up, stops the running server gracefully
 * (SHUTDOWN SAVE, never a kill), starts Redis with the new config and waits for PONG.
 */
export async function deployRedis(s: Services, docs: ReportDocuments): Promise<boolean> {
  if (!requireTrust('Deploying a Redis configuration')) return false;
  const cfg = vscode.workspace.getConfiguration(SECTION);
  const url = s.store.settings.redisUrl;
  const port = url ? parseRedisUrl(url).port : DEPLOY_DEFAULTS.port;
  const dataDir = await vscode.window.showInputBox({
    title: `Deploy Redis on port ${port}: data directory`,
    prompt:
      'Where Redis keeps its AOF and RDB files: a persistent disk (AutoDL: under /root/autodl-tmp).',
    value: cfg.get<string>('deploy.dataDir') || DEPLOY_DEFAULTS.dataDir,
    ignoreFocusOut: true,
    validateInput: (v) => (v.trim().startsWith('/') ? undefined : 'an absolute path'),
  });
  if (!dataDir) return false;
  const password = url ? await s.passwords.get(url) : undefined;
  const options = {
    source: s.context.asAbsolutePath('redis/redis-autodl-optimized.conf'),
    target: deployTarget(),
    dataDir: dataDir.trim(),
    logFile: cfg.get<string>('deploy.logFile') || DEPLOY_DEFAULTS.logFile,
    pidFile: cfg.get<string>('deploy.pidFile') || DEPLOY_DEFAULTS.pidFile,
    port,
    password,
    currentPassword: password,
  };
  let plan: DeployPlan;
  try {
    plan = await vscode.window.withProgress(
      {
        location: vscode.ProgressLocation.Notification,
        title: 'Checking the Redis configuration on a scratch port…',
      },
      () => planDeploy(options),
    );
  } catch (e) {
    void vscode.window.showErrorMessage(
      `Deploy stopped before touching anything: ${(e as Error).message}`,
    );
    return false;
  }
  await docs.show('Redis Deploy Plan.md', planMarkdown(plan));
  if (plan.upToDate) {
    void vscode.window.showInformationMessage(
      `Redis on port ${port} already runs this configuration.`,
    );
    return true;
  }
  const answer = await vscode.window.showWarningMessage(
    `Deploy the Optuna Redis configuration on port ${port}?`,
    {
      modal: true,
      detail: `${plan.actions.join('\n')}\n\nThe running server is stopped with SHUTDOWN SAVE (its data is kept), never killed.`,
    },
    'Deploy',
  );
  if (answer !== 'Deploy') return false;
  try {
    // Cancel stops at the next safe point: before the running server is stopped, or while
    // waiting for an AOF rewrite or the new server's PONG.
    const result = await withCancellableProgress(
      `Deploying Redis on port ${port}`,
      (report, signal) =>
        executeDeploy(plan, {
          signal,
          onStep: (message) => (s.log.info(`deploy: ${message}`), report(message)),
        }),
    );
    void vscode.window.showInformationMessage(
      `Redis is up on ${result.host}:${result.port} with the new configuration.`,
    );
  } catch (e) {
    if (isCancelled(e)) {
      s.log.info('deploy: cancelled');
      void vscode.window.showInformationMessage(
        'Deploy cancelled: the steps it made are in the Output log; run it again to finish.',
      );
      return false;
    }
    s.log.error(`deploy: ${(e as Error).message}`);
    void vscode.window.showErrorMessage(`Deploy failed: ${(e as Error).message}`);
    return false;
  } finally {
    await s.store.start();
  }
  return true;
}
