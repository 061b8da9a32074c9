import * as vscode from 'vscode';
import { type DoctorReport, hasErrors, runDoctor } from '../../core/redis/doctor';
import { applyLiveFixes, plannedFixes } from '../../core/redis/liveFixes';
import { isLoopbackHost, parseRedisUrl } from '../../core/redis/url';
import { withCancellableProgress } from '../progress';
import type { ReportDocuments } from '../reportDocuments';
import type { Services } from '../services';
import { requireTrust } from '../trust';

export function doctorMarkdown(report: DoctorReport, where: string): string {
  const lines = [`# Redis doctor: ${where}`, ''];
  if (report.server?.version)
    lines.push(
      `Redis ${report.server.version}${report.server.configFile ? `, config file ${report.server.configFile}` : ', started without a config file'}`,
      '',
    );
  if (report.findings.length === 0)
    lines.push('No problems found: this Redis is safe for an Optuna journal.');
  const icon = { error: '⛔', warning: '⚠️', info: 'ℹ️' } as const;
  for (const f of report.findings) {
    lines.push(
      `## ${icon[f.severity]} ${f.title}`,
      '',
      `**Severity:** ${f.severity}  `,
      `**Evidence:** ${f.evidence}  `,
      `**Fix:** ${f.fix}${f.liveFix ? ' _(can be applied live)_' : ''}`,
      '',
    );
  }
  const journals = report.journals.filter((j) => j.missing > 0);
  if (report.journals.length)
    lines.push(
      '## Journal prefixes',
      '',
      ...report.journals.map(
        (j) =>
          `- \`"${j.prefix}"\`: ${j.entries} entries${j.missing ? `, **${j.missing} missing**` : ', none missing'}`,
      ),
      '',
    );
  if (journals.length)
    lines.push(
      '_Missing entries make every Optuna worker on that prefix wait forever: restore them from a backup or move the study (export/import)._',
    );
  return lines.join('\n') + '\n';
}

/**
 * "Check Redis Configuration (Doctor)": checks the connected server (settings, counters,
 * every journal prefix for missing entries), shows the findings, and offers to apply the
 * safe fixes live (CONFIG SET, then CONFIG REWRITE) after a modal confirmation.
 */
export async function doctor(
  s: Services,
  docs: ReportDocuments,
): Promise<DoctorReport | undefined> {
  const store = s.store.current;
  const client = store?.redisClient;
  if (!client || s.store.state.state !== 'redis') {
    void vscode.window.showErrorMessage(
      `The doctor needs a reachable Redis: ${s.store.state.detail}`,
    );
    return undefined;
  }
  const where = store!.redisWhere!;
  const serverIsLocal = isLoopbackHost(parseRedisUrl(s.store.settings.redisUrl).host);
  const report = await withCancellableProgress(`Redis doctor: ${where}`, (report, signal) =>
    runDoctor({ redis: client, serverIsLocal, signal, onProgress: report }),
  );
  s.log.info(
    `doctor: ${report.findings.length} findings (${report.findings.filter((f) => f.severity === 'error').length} errors) on ${where}`,
  );
  await docs.show('Redis Doctor.md', doctorMarkdown(report, where));
  const fixes = plannedFixes(report.findings);
  if (fixes.length === 0 || !vscode.workspace.isTrusted) return report;
  const answer = await vscode.window.showWarningMessage(
    `Apply ${fixes.length} safe fix${fixes.length === 1 ? '' : 'es'} to ${where} now?`,
    {
      modal: true,
      detail: `${fixes.map((f) => `CONFIG SET ${f.parameter} ${f.value}`).join('\n')}\nthen CONFIG REWRITE when the server has a config file. Nothing is deleted.`,
    },
    'Apply Fixes',
  );
  if (answer !== 'Apply Fixes' || !requireTrust('Changing the Redis configuration')) return report;
  const result = await applyLiveFixes(client, report.findings);
  const failed = result.applied.filter((a) => !a.ok);
  s.log.info(
    `doctor: applied ${result.applied.map((a) => `${a.command} (${a.ok ? 'ok' : a.error})`).join(', ')}${result.rewrite ? `; CONFIG REWRITE ${result.rewrite.ok ? 'ok' : result.rewrite.error}` : ''}`,
  );
  if (failed.length || (result.rewrite && !result.rewrite.ok)) {
    void vscode.window.showErrorMessage(
      `Some fixes failed: ${[...failed.map((f) => `${f.command}: ${f.error}`), result.rewrite && !result.rewrite.ok ? `CONFIG REWRITE: ${result.rewrite.error}` : ''].filter(Boolean).join('; ')}`,
    );
  } else {
    void vscode.window.showInformationMessage(
      `Applied ${result.applied.length} fix${result.applied.length === 1 ? '' : 'es'}${result.rewrite ? ` and saved them to ${result.rewrite.file}` : ' (the server has no config file: they last until its next restart)'}.`,
    );
  }
  return hasErrors(report.findings)
    ? await runDoctor({ redis: client, serverIsLocal }).then(
        async (after) => (await docs.show('Redis Doctor.md', doctorMarkdown(after, where)), after),
      )
    : report;
}
