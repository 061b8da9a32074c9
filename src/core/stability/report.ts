import * as fs from 'node:fs';
import * as path from 'node:path';
import type { MetricValue, ScenarioResult, ScenarioStatus, SuiteResult } from './types';

/** One line of the "measured vs promised" table: a check, or a scenario without checks. */
export interface SummaryRow {
  scenario: string;
  status: ScenarioStatus;
  what: string;
  measured: string;
  promised: string;
  ok: boolean | null;
}

export function summaryRows(result: SuiteResult): SummaryRow[] {
  const rows: SummaryRow[] = [];
  for (const s of result.scenarios) {
    if (s.checks.length === 0) {
      rows.push({
        scenario: s.label,
        status: s.status,
        what: '—',
        measured: s.status === 'skipped' ? 'not run' : '—',
        promised: '—',
        ok: null,
      });
      continue;
    }
    for (const c of s.checks)
      rows.push({
        scenario: s.label,
        status: s.status,
        what: c.label,
        measured: c.measured ?? 'not measured',
        promised: c.promised,
        ok: c.ok,
      });
  }
  return rows;
}

export function counts(result: SuiteResult): Record<ScenarioStatus, number> {
  const c: Record<ScenarioStatus, number> = { passed: 0, failed: 0, skipped: 0 };
  for (const s of result.scenarios) c[s.status]++;
  return c;
}

/** The CLI's `--json` document: exactly `{"scenarios": [{id, status, message, metrics}]}`. */
export function jsonSummary(result: SuiteResult): {
  scenarios: Array<{
    id: string;
    status: ScenarioStatus;
    message: string;
    metrics: Record<string, MetricValue>;
  }>;
} {
  return {
    scenarios: result.scenarios.map((s) => ({
      id: s.id,
      status: s.status,
      message: s.message,
      metrics: s.metrics,
    })),
  };
}

const md = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

function fmt(v: MetricValue): string {
  if (v === null) return '—';
  if (typeof v === 'boolean') return v ? 'yes' : 'no';
  return String(v);
}

/** A Markdown report a person can read and keep: the table first, then each scenario in detail. */
export function markdownReport(result: SuiteResult): string {
  const c = counts(result);
  const t = result.target;
  const out: string[] = [];
  out.push(`# Optuna storage stability suite — ${new Date(result.startedAt).toISOString()}`, '');
  out.push(
    `- Server under test: ${t.where} (Redis ${t.version ?? 'version unknown'}, TLS ${t.tls ? 'on' : 'off'}, AUTH ${t.auth ? 'on' : 'off'}, db ${t.db})`,
  );
  out.push(
    `- Run ${result.runId}, ${(result.durationMs / 1000).toFixed(1)} s${result.cancelled ? ', **cancelled**' : ''}`,
  );
  out.push(
    `- Options: ${Object.entries(result.options)
      .filter(([, v]) => v !== null)
      .map(([k, v]) => `${k} ${fmt(v)}`)
      .join(', ')}`,
  );
  out.push(`- Result: **${c.passed} passed, ${c.failed} failed, ${c.skipped} skipped**`);
  if (result.unreachable) out.push(`- The server could not be used: ${result.unreachable.message}`);
  out.push(
    '',
    '## Measured vs promised',
    '',
    '| Scenario | Status | Check | Measured | Promised |',
    '|---|---|---|---|---|',
  );
  for (const r of summaryRows(result))
    out.push(
      `| ${md(r.scenario)} | ${r.status} | ${md(r.what)} | ${r.ok === false ? '**' + md(r.measured) + '**' : md(r.measured)} | ${md(r.promised)} |`,
    );
  for (const s of result.scenarios) out.push('', ...scenarioSection(s));
  out.push('', '## Cleanup', '');
  const cl = result.cleanup;
  out.push(
    `- Keys of this run removed: ${cl.removedKeys}${result.options.keep_data ? ' (kept: keepData)' : ''}`,
  );
  out.push(
    `- Leftovers of interrupted earlier runs removed: ${cl.leftoverKeys} keys${cl.leftoverPrefixes.length ? ` (${cl.leftoverPrefixes.join(', ')})` : ''}; temp folders: ${cl.staleTempDirs}`,
  );
  for (const e of cl.errors) out.push(`- Problem: ${e}`);
  return out.join('\n') + '\n';
}

function scenarioSection(s: ScenarioResult): string[] {
  const out = [`## ${s.label} (\`${s.id}\`) — ${s.status}`, '', md(s.message) || '—', ''];
  if (s.prefix)
    out.push(
      `Journal prefix: \`${s.prefix}\` on the ${s.server === 'disposable' ? "suite's disposable server" : 'server under test'}; ${(s.durationMs / 1000).toFixed(1)} s`,
      '',
    );
  const metrics = Object.entries(s.metrics);
  if (metrics.length > 0) {
    out.push('| Metric | Value |', '|---|---|');
    for (const [k, v] of metrics) out.push(`| ${k} | ${md(fmt(v))} |`);
    out.push('');
  }
  if (s.log.length > 0)
    out.push('<details><summary>Log</summary>', '', '```', ...s.log, '```', '', '</details>');
  return out;
}

/** Writes `optuna-storage-suite-<run id>.md` and `.json` (run ids start with a UTC timestamp). */
export function writeReports(result: SuiteResult, dir: string): { markdown: string; json: string } {
  fs.mkdirSync(dir, { recursive: true });
  const base = path.join(dir, `optuna-storage-suite-${result.runId}`);
  const markdown = `${base}.md`;
  const json = `${base}.json`;
  fs.writeFileSync(markdown, markdownReport(result));
  fs.writeFileSync(json, JSON.stringify(result, null, 2) + '\n');
  return { markdown, json };
}
