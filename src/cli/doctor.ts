import { parseArgs } from 'node:util';
import type Redis from 'ioredis';
import { type DoctorReport, hasErrors, runDoctor } from '../core/redis/doctor';
import type { Finding } from '../core/redis/doctorRules';
import { type FixResult, applyLiveFixes, plannedFixes } from '../core/redis/liveFixes';
import { redactUrl } from '../core/redis/url';
import { type CliCommand, EXIT_BAD_INPUT, EXIT_FAILED, EXIT_OK, UsageError } from './command';
import { confirm } from './confirm';
import { REDIS_OPTION_HELP, connectFromArgs, isLocalHost } from './redisArgs';
import { exitStatusFor } from './storageArgs';

export const doctorCommand: CliCommand = {
  name: 'doctor',
  summary:
    'check a Redis (and its redis.conf) for settings and states that lose Optuna journal data',
  help: `Usage: optuna-storage doctor [--redis URL] [--config FILE] [--json] [--fix [--yes]]

Checks a running Redis and/or a redis.conf for what loses or blocks an Optuna journal:
eviction policy other than noeviction; no persistence; evicted keys; refused connections;
clients or memory near their limits; failed snapshots or AOF writes; tcp-backlog above the
kernel's somaxconn; listening beyond loopback without a password; and, on every journal
prefix, missing <prefix>:log:N entries (which make Optuna workers wait forever).
With --redis on this machine, the server's own config file is checked too.

Options:
${REDIS_OPTION_HELP}
  --config FILE   a redis.conf to check (include directives are followed)
  --json          print {"findings": [{"id", "severity", "title", "evidence", "fix"}],
                  "fixed": [...], "journals": [...]}
  --fix           apply the safe fixes on the running server (maxmemory-policy noeviction,
                  appendonly yes, appendfsync everysec), then CONFIG REWRITE its config file;
                  asks first on a terminal
  --yes           do not ask (needed for --fix without a terminal)
  --max-entries N journal entries checked per prefix (default 5000000)
  -h, --help      this help

Exit status: 0 no error-level finding; 1 an error-level finding (after fixes); 2 bad
arguments or unreadable config; 3 Redis unreachable.`,

  async run(argv, io) {
    const { values } = parseArgs({
      args: argv,
      options: {
        redis: { type: 'string' },
        config: { type: 'string' },
        json: { type: 'boolean', default: false },
        fix: { type: 'boolean', default: false },
        yes: { type: 'boolean', default: false },
        'max-entries': { type: 'string' },
      },
    });
    if (!values.redis && !values.config)
      throw new UsageError('doctor needs --redis URL and/or --config FILE');
    if (values.fix && !values.redis)
      throw new UsageError('--fix changes a running server: give --redis URL');
    const maxEntries =
      values['max-entries'] === undefined ? undefined : Number(values['max-entries']);
    if (maxEntries !== undefined && !(Number.isInteger(maxEntries) && maxEntries >= 0))
      throw new UsageError('--max-entries must be a non-negative integer');

    let redis: Redis | undefined;
    try {
      if (values.redis) redis = await connectFromArgs(values.redis, io.env);
      const check = () =>
        runDoctor({
          redis,
          serverIsLocal: values.redis ? isLocalHost(values.redis) : false,
          configFile: values.config,
          maxEntries,
          signal: io.signal,
        });
      let report = await check();
      let fixed: FixResult | undefined;
      if (values.fix && redis) {
        const plan = plannedFixes(report.findings);
        if (plan.length > 0) {
          if (!values.json) io.stdout(describe(report, values.redis));
          io.stderr(
            `doctor --fix will run on ${redactUrl(values.redis!)}:\n${plan.map((p) => `  CONFIG SET ${p.parameter} ${p.value}`).join('\n')}\n  CONFIG REWRITE (when the server has a config file)\n`,
          );
          const answer = await confirm(io, 'Apply these changes?', values.yes);
          if (!answer.ok) {
            io.stderr(`Nothing changed: ${answer.reason}.\n`);
            return EXIT_BAD_INPUT;
          }
          fixed = await applyLiveFixes(redis, report.findings, {
            signal: io.signal,
            onProgress: (m) => io.stderr(`  ${m}\n`),
          });
          report = await check();
        } else if (!values.json) {
          io.stderr('Nothing that doctor --fix can change live.\n');
        }
      }
      if (values.json) io.stdout(JSON.stringify(toJson(report, fixed), null, 2) + '\n');
      else
        io.stdout(
          (fixed ? `${describeFixes(fixed)}\nAfter the fixes:\n` : '') +
            describe(report, values.redis),
        );
      return hasErrors(report.findings) ? EXIT_FAILED : EXIT_OK;
    } catch (e) {
      const { status, message } = exitStatusFor(e);
      io.stderr(`optuna-storage doctor: ${message}\n`);
      return status;
    } finally {
      redis?.disconnect();
    }
  },
};

function findingJson(f: Finding) {
  return {
    id: f.id,
    severity: f.severity,
    title: f.title,
    evidence: f.evidence,
    fix: f.fix,
    ...(f.liveFix
      ? { live_fix: f.liveFix.map((x) => `CONFIG SET ${x.parameter} ${x.value}`) }
      : {}),
  };
}

function toJson(r: DoctorReport, fixed?: FixResult) {
  return {
    findings: r.findings.map(findingJson),
    fixed: fixed
      ? [
          ...fixed.applied.map((a) => ({
            ids: a.ids,
            command: a.command,
            ok: a.ok,
            ...(a.error ? { error: a.error } : {}),
          })),
          ...(fixed.rewrite
            ? [
                {
                  ids: [],
                  command: 'CONFIG REWRITE',
                  file: fixed.rewrite.file,
                  ok: fixed.rewrite.ok,
                  ...(fixed.rewrite.error ? { error: fixed.rewrite.error } : {}),
                },
              ]
            : []),
        ]
      : [],
    journals: r.journals.map((j) => ({
      prefix: j.prefix,
      entries: j.entries,
      checked: j.checked,
      missing: j.missing,
      missing_ranges: j.ranges,
    })),
    config_files: r.configFiles,
    ...(r.server
      ? { server: { version: r.server.version ?? null, config_file: r.server.configFile ?? null } }
      : {}),
  };
}

function describeFixes(f: FixResult): string {
  const lines = f.applied.map(
    (a) => `${a.ok ? 'done  ' : 'FAILED'} ${a.command}${a.error ? `: ${a.error}` : ''}`,
  );
  if (f.rewrite)
    lines.push(
      `${f.rewrite.ok ? 'done  ' : 'FAILED'} CONFIG REWRITE ${f.rewrite.file}${f.rewrite.error ? `: ${f.rewrite.error}` : ''}`,
    );
  else lines.push('note: the server has no config file, so these settings last until it restarts');
  return lines.join('\n') + '\n';
}

function describe(r: DoctorReport, url: string | undefined): string {
  const out: string[] = [];
  if (r.server && url)
    out.push(
      `Redis ${r.server.version ?? '?'} at ${redactUrl(url)}${r.server.configFile ? ` (config file ${r.server.configFile})` : ' (no config file)'}`,
    );
  for (const f of r.configFiles) out.push(`Checked ${f}`);
  for (const j of r.journals)
    out.push(
      `Journal ${JSON.stringify(j.prefix)}: ${j.entries} entries, ${j.missing === 0 ? 'no missing entries' : `${j.missing} MISSING`}${j.checked < j.entries ? ` (first ${j.checked} checked)` : ''}`,
    );
  if (r.server && r.journals.length === 0) out.push('No Optuna journal found on the server.');
  out.push('');
  if (r.findings.length === 0) out.push('No problems found.');
  for (const f of r.findings) {
    out.push(`${f.severity.toUpperCase().padEnd(7)} ${f.id}: ${f.title}`);
    out.push(`        evidence: ${f.evidence}`);
    out.push(
      `        fix: ${f.fix}${f.liveFix ? ` [doctor --fix: ${f.liveFix.map((x) => `CONFIG SET ${x.parameter} ${x.value}`).join(', ')}]` : ''}`,
    );
  }
  const count = (s: string) => r.findings.filter((f) => f.severity === s).length;
  if (r.findings.length > 0)
    out.push(
      '',
      `${count('error')} error(s), ${count('warning')} warning(s), ${count('info')} note(s)`,
    );
  return out.join('\n') + '\n';
}
