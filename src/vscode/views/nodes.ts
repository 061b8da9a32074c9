import * as vscode from 'vscode';
import type { Trial, TrialState } from '../../core/optuna/model';
import { type JsonValue } from '../../core/optuna/pythonJsonParse';
import { toStrictJson } from '../../core/optuna/strictJson';
import { summarizeStudy } from '../../core/optuna/summary';
import {
  type MergedStudy,
  type MergedTrial,
  trialsOnlyInSqlite,
} from '../../core/storage/mergedView';

/** Everything the two trees show. Ids are stable so refreshes keep what the user expanded. */
export type Node =
  | {
      kind: 'message';
      id: string;
      label: string;
      detail?: string;
      icon: string;
      color?: string;
      command?: vscode.Command;
      tooltip?: string;
      /** For menus that act on this message (default "message"). */
      contextValue?: string;
    }
  | {
      kind: 'server';
      id: string;
      label: string;
      description: string;
      prefixes: string[];
      tooltip: string;
    }
  | { kind: 'prefix'; id: string; prefix: string }
  | { kind: 'sqliteFile'; id: string; path: string; description: string; tooltip: string }
  | { kind: 'study'; id: string; study: MergedStudy }
  | {
      kind: 'trial';
      id: string;
      studyKey: string;
      study: MergedStudy;
      trial: MergedTrial;
      best?: boolean;
      /** Shown under the study because a study page selected it beyond the loaded page. */
      pinned?: boolean;
    }
  | { kind: 'section'; id: string; trial: Trial; section: Section }
  | { kind: 'value'; id: string; label: string; description: string; tooltip?: string }
  | { kind: 'loadMore'; id: string; studyKey: string; shown: number; total: number };

export type Section = 'params' | 'values' | 'intermediate' | 'userAttrs' | 'systemAttrs';

const STATE_ICON: Record<TrialState, [string, string]> = {
  COMPLETE: ['pass', 'testing.iconPassed'],
  PRUNED: ['circle-slash', 'charts.yellow'],
  FAIL: ['error', 'testing.iconFailed'],
  RUNNING: ['sync~spin', 'charts.blue'],
  WAITING: ['clock', 'disabledForeground'],
};

/** Compact text for a value in a tree row. */
export function show(v: JsonValue | undefined): string {
  if (v === undefined) return '';
  if (typeof v === 'number')
    return Number.isNaN(v)
      ? 'NaN'
      : v === Infinity
        ? 'inf'
        : v === -Infinity
          ? '-inf'
          : String(Number.isInteger(v) ? v : Number(v.toPrecision(8)));
  if (typeof v === 'string') return JSON.stringify(v);
  return toStrictJson(v);
}

function valuesText(t: Trial): string {
  if (!t.values) return '';
  return t.values.length === 1 ? show(t.values[0]) : `[${t.values.map(show).join(', ')}]`;
}

export function trialItem(n: Extract<Node, { kind: 'trial' }>): vscode.TreeItem {
  const t = n.trial.trial;
  const item = new vscode.TreeItem(
    `${n.best ? 'Best: ' : n.pinned ? 'Selected: ' : ''}#${t.number}`,
    vscode.TreeItemCollapsibleState.Collapsed,
  );
  item.id = n.id;
  const [icon, color] = STATE_ICON[t.state];
  item.iconPath = n.best
    ? new vscode.ThemeIcon('star-full', new vscode.ThemeColor('charts.yellow'))
    : new vscode.ThemeIcon(icon, new vscode.ThemeColor(color));
  // Where a trial comes from matters only when its study has more than one source.
  const source = severalSources(n.study) ? ` · ${SOURCE_LABEL[n.trial.source]}` : '';
  item.description = `${t.state}${t.values ? ` · ${valuesText(t)}` : ''}${source}`;
  item.contextValue = `trial.${t.state}`;
  item.tooltip = trialTooltip(n.study, n.trial);
  item.accessibilityInformation = {
    label: `Trial ${t.number}, ${t.state}${t.values ? `, value ${valuesText(t)}` : ''}`,
  };
  return item;
}

const SOURCE_LABEL: Record<MergedTrial['source'], string> = {
  redis: 'redis',
  sqlite: 'sqlite',
  both: 'redis+sqlite',
};

function severalSources(study: MergedStudy): boolean {
  return study.redis !== undefined && study.sqlite !== undefined;
}

function trialTooltip(study: MergedStudy, m: MergedTrial): vscode.MarkdownString {
  const t = m.trial;
  const md = new vscode.MarkdownString(undefined, true);
  md.appendMarkdown(`**Trial #${t.number}** of *${escape(study.name)}* — ${t.state}\n\n`);
  if (t.values) md.appendMarkdown(`Values: ${codeSpan(valuesText(t))}\n\n`);
  const params = Object.entries(t.params);
  if (params.length) {
    md.appendMarkdown('| param | value |\n|---|---|\n');
    for (const [k, v] of params)
      md.appendMarkdown(`| ${cell(escape(k))} | ${cell(codeSpan(show(v)))} |\n`);
    md.appendMarkdown('\n');
  }
  md.appendMarkdown(
    `Started ${t.datetimeStart ?? '—'}, completed ${t.datetimeComplete ?? '—'}  \n`,
  );
  md.appendMarkdown(`trial_id ${t.trialId}`);
  if (severalSources(study))
    md.appendMarkdown(
      ` · source: ${m.source === 'both' ? 'Redis and SQLite' : m.source === 'redis' ? 'Redis' : 'SQLite'}`,
    );
  return md;
}

/** Markdown-escaped text (for names); never inside a code span, where escapes show. */
function escape(s: string): string {
  return s.replace(/[\\`*_{}[\]()#+\-.!|<>]/g, '\\$&');
}

/** A code span showing `s` verbatim: a fence longer than any backtick run inside it. */
function codeSpan(s: string): string {
  const longest = Math.max(0, ...(s.match(/`+/g) ?? []).map((r) => r.length));
  const fence = '`'.repeat(longest + 1);
  const pad = s.startsWith('`') || s.endsWith('`') ? ' ' : '';
  return `${fence}${pad}${s}${pad}${fence}`;
}

/** A table cell: a pipe would end the cell even inside a code span (GFM), so it is escaped. */
function cell(s: string): string {
  return s.replace(/(?<!\\)\|/g, '\\|');
}

export function studyItem(s: MergedStudy): vscode.TreeItem {
  // A study from one source is summarized from its own columns; a merged one trial by trial.
  const sum = summarizeStudy(
    s.redis && s.sqlite
      ? { ...s.redis, trials: s.trials.map((t) => t.trial) }
      : (s.redis ?? s.sqlite)!,
  );
  const item = new vscode.TreeItem(s.name, vscode.TreeItemCollapsibleState.Collapsed);
  item.id = `study:${s.key}`;
  const source = s.redis && s.sqlite ? 'both' : s.redis ? 'redis' : 'sqlite';
  const onlyInSqlite = trialsOnlyInSqlite(s);
  // study.both.split: a study Heal Split Study can heal (package.json shows the action on it).
  item.contextValue = `study.${source}${onlyInSqlite > 0 ? '.split' : ''}`;
  item.iconPath = new vscode.ThemeIcon('beaker');
  const dirs = (s.redis ?? s.sqlite)!.directions.map((d) => d.toLowerCase()).join('/');
  // Short enough for the side bar's default width: the directions are in the tooltip.
  const directions = (s.redis ?? s.sqlite)!.directions.length;
  const best = sum.best
    ? ` · best ${show(sum.best.values?.[0])}`
    : directions > 1
      ? ` · ${directions} objectives`
      : '';
  item.description = `${s.trials.length} trials${best}${source === 'both' ? (onlyInSqlite > 0 ? ` · split: ${onlyInSqlite} trials only in SQLite` : ' · redis+sqlite') : ''}`;
  const md = new vscode.MarkdownString();
  md.appendMarkdown(`**${escape(s.name)}** (${dirs})\n\n`);
  md.appendMarkdown(
    Object.entries(sum.counts)
      .filter(([, n]) => n > 0)
      .map(([st, n]) => `${st} ${n}`)
      .join(' · ') || 'no trials',
  );
  md.appendMarkdown(
    `\n\nBest: ${sum.best ? `${codeSpan(show(sum.best.values?.[0]))} (#${sum.best.number})` : '—'}  \nLast activity: ${sum.lastActivity ?? '—'}  \n`,
  );
  md.appendMarkdown(
    `Source: ${source === 'both' ? 'Redis journal and SQLite fallback (trials labelled)' : source === 'redis' ? `Redis journal, prefix "${escape(s.prefix ?? '')}"` : 'SQLite fallback'}`,
  );
  item.tooltip = md;
  return item;
}

export function sectionChildren(n: Extract<Node, { kind: 'section' }>): Node[] {
  const t = n.trial;
  const base = `${n.id}/`;
  const entries: Array<[string, JsonValue]> =
    n.section === 'params'
      ? Object.entries(t.params)
      : n.section === 'values'
        ? (t.values ?? []).map((v, i) => [`objective ${i}`, v])
        : n.section === 'intermediate'
          ? Object.entries(t.intermediateValues)
              .sort(([a], [b]) => Number(a) - Number(b))
              .map(([k, v]) => [`step ${k}`, v])
          : n.section === 'userAttrs'
            ? Object.entries(t.userAttrs)
            : Object.entries(t.systemAttrs);
  return entries.map(([label, v]) => ({
    kind: 'value',
    id: base + label,
    label,
    description: show(v),
    tooltip:
      n.section === 'params'
        ? `${t.distributions[label]?.name ?? ''} ${toStrictJson(t.distributions[label]?.attributes ?? {})}`
        : undefined,
  }));
}

export function trialSections(trialNodeId: string, t: Trial): Node[] {
  const out: Node[] = [];
  const add = (section: Section, count: number) =>
    count > 0 && out.push({ kind: 'section', id: `${trialNodeId}/${section}`, trial: t, section });
  add('params', Object.keys(t.params).length);
  add('values', t.values?.length ?? 0);
  add('intermediate', Object.keys(t.intermediateValues).length);
  add('userAttrs', Object.keys(t.userAttrs).length);
  add('systemAttrs', Object.keys(t.systemAttrs).length);
  if (out.length === 0)
    out.push({
      kind: 'value',
      id: `${trialNodeId}/empty`,
      label: 'No params, values or attributes yet',
      description: '',
    });
  return out;
}

const SECTION_LABEL: Record<Section, string> = {
  params: 'Params',
  values: 'Values',
  intermediate: 'Intermediate values',
  userAttrs: 'User attributes',
  systemAttrs: 'System attributes',
};

export function toTreeItem(n: Node): vscode.TreeItem {
  switch (n.kind) {
    case 'message': {
      const item = new vscode.TreeItem(n.label);
      item.id = n.id;
      item.description = n.detail;
      item.iconPath = new vscode.ThemeIcon(
        n.icon,
        n.color ? new vscode.ThemeColor(n.color) : undefined,
      );
      item.command = n.command;
      item.tooltip = n.tooltip ?? [n.label, n.detail].filter(Boolean).join('\n');
      item.contextValue = n.contextValue ?? 'message';
      return item;
    }
    case 'server': {
      const item = new vscode.TreeItem(n.label, vscode.TreeItemCollapsibleState.Expanded);
      item.id = n.id;
      item.description = n.description;
      item.iconPath = new vscode.ThemeIcon('server');
      item.tooltip = n.tooltip;
      item.contextValue = 'server';
      return item;
    }
    case 'prefix': {
      const item = new vscode.TreeItem(
        n.prefix === '' ? 'prefix "" (Optuna default)' : `prefix "${n.prefix}"`,
        vscode.TreeItemCollapsibleState.Expanded,
      );
      item.id = n.id;
      item.iconPath = new vscode.ThemeIcon('symbol-key');
      item.contextValue = 'prefix';
      return item;
    }
    case 'sqliteFile': {
      const item = new vscode.TreeItem(
        n.path.split(/[\\/]/).pop() ?? n.path,
        vscode.TreeItemCollapsibleState.Expanded,
      );
      item.id = n.id;
      item.description = n.description;
      item.tooltip = n.tooltip;
      item.iconPath = new vscode.ThemeIcon('database');
      item.contextValue = 'sqliteFile';
      return item;
    }
    case 'study':
      return studyItem(n.study);
    case 'trial':
      return trialItem(n);
    case 'section': {
      const item = new vscode.TreeItem(
        SECTION_LABEL[n.section],
        vscode.TreeItemCollapsibleState.Collapsed,
      );
      item.id = n.id;
      item.contextValue = `section.${n.section}`;
      return item;
    }
    case 'value': {
      const item = new vscode.TreeItem(n.label);
      item.id = n.id;
      item.description = n.description;
      item.tooltip = n.tooltip
        ? `${n.label} = ${n.description}\n${n.tooltip}`
        : `${n.label} = ${n.description}`;
      item.contextValue = 'value';
      return item;
    }
    case 'loadMore': {
      const item = new vscode.TreeItem(`Load more… (${n.shown} of ${n.total} shown)`);
      item.id = n.id;
      item.iconPath = new vscode.ThemeIcon('ellipsis');
      item.command = {
        command: 'optunaStorage.loadMore',
        title: 'Load more trials',
        arguments: [n],
      };
      item.contextValue = 'loadMore';
      return item;
    }
  }
}
