import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { normalizeParams, type ParamSpec } from '../../core/runs/params';
import {
  commandOf,
  normalizeProfiles,
  type Profile,
  type RunCommand,
} from '../../core/runs/profiles';
import { SECTION, numberSetting } from '../settings';
import {
  DEFAULT_NAME_TEMPLATE,
  DEFAULT_PARAMETERS,
  DEFAULT_TEMPLATE,
} from '../../core/runs/defaults';

/** Setting keys of optimizer runs (package.json declares them under optunaStorage.runs.*). */
export const RUNS_KEY = {
  template: 'runs.commandTemplate',
  parameters: 'runs.parameters',
  profiles: 'runs.profiles',
  nameTemplate: 'runs.nameTemplate',
  useTmux: 'runs.useTmux',
  tmuxSocket: 'runs.tmuxSocketName',
  grace: 'runs.stopGracePeriod',
  cwd: 'runs.workingDirectory',
  companion: 'runs.pythonCompanion',
} as const;

export interface RunSettings {
  template: string;
  params: ParamSpec[];
  profiles: Profile[];
  /** Problems in the parameters and profiles settings, for the log and the form. */
  problems: string[];
  nameTemplate: string;
  useTmux: boolean;
  tmuxSocket: string | undefined;
  graceMs: number;
  /** Absolute working directory of runs. */
  cwd: string;
  /** Put the extension's Python companion (enhanced_redis_storage) on the runs' PYTHONPATH. */
  companion: boolean;
}

/** The command a run launched from the named profile executes (its own, or the settings'). */
export function runCommand(set: RunSettings, profile: string | undefined): RunCommand {
  return commandOf(
    set.profiles.find((p) => p.name === profile),
    { template: set.template, params: set.params, nameTemplate: set.nameTemplate },
  );
}

export function readRunSettings(): RunSettings {
  const c = vscode.workspace.getConfiguration(SECTION);
  const params = normalizeParams(c.get<unknown>(RUNS_KEY.parameters, DEFAULT_PARAMETERS));
  const profiles = normalizeProfiles(c.get<unknown>(RUNS_KEY.profiles, []));
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? os.homedir();
  const cwd = c.get<string>(RUNS_KEY.cwd, '').trim();
  return {
    template: c.get<string>(RUNS_KEY.template, DEFAULT_TEMPLATE),
    params: params.params,
    profiles: profiles.profiles,
    problems: [...params.problems, ...profiles.problems],
    nameTemplate: c.get<string>(RUNS_KEY.nameTemplate, DEFAULT_NAME_TEMPLATE),
    useTmux: c.get<boolean>(RUNS_KEY.useTmux, false),
    tmuxSocket: c.get<string>(RUNS_KEY.tmuxSocket, '').trim() || undefined,
    graceMs: numberSetting(c, RUNS_KEY.grace, 10, 0, 3600) * 1000,
    cwd: cwd ? path.resolve(folder, cwd) : folder,
    companion: c.get<boolean>(RUNS_KEY.companion, true),
  };
}
