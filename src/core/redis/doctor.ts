import type Redis from 'ioredis';
import { ConfigSyntaxError, effectiveSettings, loadConfigFile } from './configFile';
import {
  type Finding,
  REDIS_DEFAULTS,
  type Severity,
  type SettingsSource,
  type SystemFacts,
  bySeverity,
  journalRules,
  settingsRules,
  stateRules,
} from './doctorRules';
import { type RedisInfo, parseInfo } from './info';
import { type JournalGaps, scanAllJournals } from './journalScan';
import { readServerConfig } from './serverConfig';
import { localSystemFacts, openFilesLimit } from './systemFacts';

export interface DoctorOptions {
  /** A connected client (the caller owns and closes it). */
  redis?: Redis;
  /** Whether that server runs on this machine: then /proc facts and its config file apply. */
  serverIsLocal?: boolean;
  /** A redis.conf to check (besides the running server's own, when that one is readable here). */
  configFile?: string;
  /** Entries per journal prefix checked for gaps (default 5,000,000). */
  maxEntries?: number;
  /** Facts of this machine; read from /proc unless given (tests inject them). */
  system?: SystemFacts;
  signal?: AbortSignal;
  onProgress?: (message: string) => void;
}

export interface DoctorReport {
  findings: Finding[];
  /** Config files that were checked. */
  configFiles: string[];
  journals: JournalGaps[];
  server?: {
    version?: string;
    configFile?: string;
    info: RedisInfo;
    settings: Map<string, string> | null;
  };
}

/** The settings of a config file as the rules see them: Redis defaults for what it leaves out. */
export function fileSettingsSource(file: string): SettingsSource {
  const settings = effectiveSettings(loadConfigFile(file));
  return {
    kind: 'config-file',
    get: (name) => settings.get(name)?.value ?? REDIS_DEFAULTS[name],
    where: (name) => settings.get(name)?.where ?? `${file}: not set, Redis default`,
  };
}

export function serverSettingsSource(settings: Map<string, string>): SettingsSource {
  return { kind: 'server', get: (name) => settings.get(name), where: () => 'running server' };
}

/**
 * Checks a running Redis (settings, counters, every journal prefix for missing entries)
 * and/or a config file, and returns findings, worst first. Reads only; `applyLiveFixes`
 * repairs what can be repaired live.
 */
export async function runDoctor(opts: DoctorOptions): Promise<DoctorReport> {
  const system = opts.system ?? localSystemFacts();
  const findings: Finding[] = [];
  const report: DoctorReport = { findings, configFiles: [], journals: [] };
  const files = opts.configFile ? [opts.configFile] : [];

  if (opts.redis) {
    opts.onProgress?.('reading INFO and CONFIG');
    const info = parseInfo(await opts.redis.info());
    const settings = await readServerConfig(opts.redis);
    const configFile = info.get('config_file') || undefined;
    report.server = { version: info.get('redis_version'), configFile, info, settings };
    const serverSystem: SystemFacts = {
      somaxconn: opts.serverIsLocal ? system.somaxconn : undefined,
    };
    if (settings) findings.push(...settingsRules(serverSettingsSource(settings), serverSystem));
    else
      findings.push({
        id: 'config-unavailable',
        severity: 'info',
        title: 'CONFIG is disabled on this server: its settings could not be checked',
        evidence: 'CONFIG GET refused',
        fix: "Run doctor --config on the server's redis.conf instead.",
      });
    findings.push(...stateRules(info, settings));
    // The server's own file decides what happens at the next restart: check it too.
    if (opts.serverIsLocal && configFile && !files.includes(configFile)) files.push(configFile);

    opts.onProgress?.('scanning journals for missing entries');
    const { journals } = await scanAllJournals(opts.redis, {
      maxEntries: opts.maxEntries,
      signal: opts.signal,
      onProgress: (p, n, total) => opts.onProgress?.(`journal ${JSON.stringify(p)}: ${n}/${total}`),
    });
    report.journals = journals;
    findings.push(...journalRules(journals));
  }

  for (const file of files) {
    const pid = report.server?.info.num('process_id');
    // Redis started from this file inherits the limit of whatever started it; for a running
    // server that is its own limit, for a file not yet in use ours.
    const limit = opts.redis && pid ? openFilesLimit(pid) : system.openFilesLimit;
    try {
      findings.push(
        ...settingsRules(fileSettingsSource(file), { ...system, openFilesLimit: limit }),
      );
      report.configFiles.push(file);
    } catch (e) {
      const where = e instanceof ConfigSyntaxError ? `${e.file}:${e.line}` : file;
      findings.push({
        id: 'config-file-unreadable',
        severity: opts.configFile === file ? 'error' : 'info',
        title: `Config file ${file} could not be checked`,
        evidence: `${where}: ${(e as Error).message}`,
        fix: 'Fix the file (Redis itself would refuse it), or give the right one with --config.',
      });
    }
  }
  report.findings = mergeFindings(findings);
  return report;
}

const WORSE: Record<Severity, number> = { error: 2, warning: 1, info: 0 };

/**
 * One finding per problem: the same rule from the server and from its config file is one
 * finding with both pieces of evidence (and the fixes of both, applied once). Journal
 * findings stay one per prefix.
 */
export function mergeFindings(findings: Finding[]): Finding[] {
  const out: Finding[] = [];
  const byId = new Map<string, Finding>();
  for (const f of findings) {
    const key = f.id.startsWith('journal-') ? `${f.id}|${f.title}` : f.id;
    const prev = byId.get(key);
    if (!prev) {
      const copy = { ...f, liveFix: f.liveFix ? [...f.liveFix] : undefined };
      byId.set(key, copy);
      out.push(copy);
      continue;
    }
    if (WORSE[f.severity] > WORSE[prev.severity]) {
      prev.severity = f.severity;
      prev.title = f.title;
    }
    prev.evidence += `; ${f.evidence}`;
    for (const fix of f.liveFix ?? []) {
      if (!prev.liveFix?.some((x) => x.parameter === fix.parameter))
        (prev.liveFix ??= []).push(fix);
    }
  }
  return out.sort(bySeverity);
}

export function hasErrors(findings: Finding[]): boolean {
  return findings.some((f) => f.severity === 'error');
}
