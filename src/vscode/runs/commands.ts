import * as vscode from 'vscode';
import type { ParamSpec } from '../../core/runs/params';
import { type RunRecord, stateText } from '../../core/runs/record';
import {
  buildCommand,
  parseTemplate,
  runLabel,
  TemplateError,
  templateParams,
} from '../../core/runs/template';
import { Tmux } from '../../core/runs/tmux';
import type { Services } from '../services';
import { requireTrust } from '../trust';
import type { Node } from '../views/nodes';
import { type LastLaunch, launchForm } from './launchForm';
import { LAST_KEY, type RunManager } from './runManager';
import { type RunNode, runSummary } from './runsProvider';
import { readRunSettings, runCommand } from './runSettings';

/** A command's target: the tree node, a run id (detail rows), or a run the user picks. */
export type RunArg = RunNode | string | undefined;

export async function runFrom(
  m: RunManager,
  arg: RunArg,
  filter: (r: RunRecord) => boolean,
  placeHolder: string,
  none: string,
): Promise<RunRecord | undefined> {
  if (typeof arg === 'string') return m.get(arg);
  if (arg && typeof arg === 'object' && 'run' in arg) return m.get(arg.run.id) ?? arg.run;
  const runs = m.all.filter(filter);
  if (runs.length === 0) {
    void vscode.window.showInformationMessage(none);
    return undefined;
  }
  const pick = await vscode.window.showQuickPick(
    runs.map((run) => ({
      label: run.label,
      description: `${stateText(run)} · ${runSummary(run)}`,
      run,
    })),
    { placeHolder },
  );
  return pick?.run;
}

/** The launch form, then the launch. Resolves with the new run (undefined when cancelled). */
export async function launch(s: Services, m: RunManager): Promise<RunRecord | undefined> {
  if (!requireTrust('Launching an optimizer run')) return undefined;
  const settings = readRunSettings();
  for (const p of settings.problems) s.log.warn(`runs settings: ${p}`);
  await s.refresh.refresh('shown');
  const configured = s.store.settings.prefixes ?? [];
  const tmuxAvailable =
    process.platform !== 'win32' && (await new Tmux(settings.tmuxSocket).version()) !== undefined;
  // A template that cannot be used is reported in the form, with the setting to fix.
  const paramsFor = (profile: string | undefined): ParamSpec[] | { error: string } => {
    const cmd = runCommand(settings, profile);
    try {
      return templateParams(parseTemplate(cmd.template), cmd.params);
    } catch (e) {
      if (!(e instanceof TemplateError)) throw e;
      return { error: `the command template "${cmd.template}" cannot be used: ${e.message}` };
    }
  };
  const choice = await launchForm({
    settings,
    paramsFor,
    studies: s.store.studies(),
    prefixes: configured,
    defaultPrefix: configured[0],
    last: s.context.workspaceState.get<LastLaunch>(LAST_KEY),
    tmuxAvailable,
    preview: (c) => {
      try {
        const cmd = runCommand(settings, c.profile);
        const built = buildCommand(cmd.template, cmd.params, c.values);
        return { command: built.command, label: runLabel(cmd.nameTemplate, built.values) };
      } catch (e) {
        return { error: (e as Error).message };
      }
    },
  });
  if (!choice) return undefined;
  return m.launch(choice);
}

export async function stop(m: RunManager, arg: RunArg): Promise<void> {
  if (!requireTrust('Stopping an optimizer run')) return;
  const run = await runFrom(
    m,
    arg,
    (r) => r.state === 'running',
    'Stop which run?',
    'No optimizer run is running.',
  );
  if (run) await m.stop(run);
}

export async function relaunch(m: RunManager, arg: RunArg): Promise<RunRecord | undefined> {
  if (!requireTrust('Relaunching an optimizer run')) return undefined;
  const run = await runFrom(
    m,
    arg,
    () => true,
    'Relaunch which run (same parameters)?',
    'No optimizer runs yet.',
  );
  return run ? m.relaunch(run) : undefined;
}

export async function nextStage(m: RunManager, arg: RunArg): Promise<RunRecord | undefined> {
  if (!requireTrust('Launching the next ramp stage')) return undefined;
  const run = await runFrom(
    m,
    arg,
    (r) => !!m.nextStage(r),
    'Relaunch which run at the next ramp stage?',
    'No run has a next ramp stage.',
  );
  if (!run) return undefined;
  const launched = m.launchNextStage(run);
  if (!launched) {
    void vscode.window.showInformationMessage(
      `${run.label} is at the last stage of ${m.rampOf(run).name}.`,
    );
    return undefined;
  }
  return launched;
}

export async function reattach(m: RunManager, arg: RunArg): Promise<vscode.Terminal | undefined> {
  if (!requireTrust('Attaching to a tmux session')) return undefined;
  const run = await runFrom(
    m,
    arg,
    (r) => !!r.tmux,
    'Re-attach to the tmux session of which run?',
    'No run was started in tmux.',
  );
  return run ? m.reattach(run) : undefined;
}

export async function showTerminal(m: RunManager, arg: RunArg): Promise<void> {
  const run = await runFrom(
    m,
    arg,
    (r) => !!m.terminalOf(r),
    'Show the terminal of which run?',
    'No run has an open terminal.',
  );
  if (!run) return;
  const t = m.terminalOf(run);
  if (t) t.show();
  else if (run.tmux) await reattach(m, run.id);
  else void vscode.window.showInformationMessage(`The terminal of ${run.label} was closed.`);
}

export async function showStudy(m: RunManager, arg: RunArg): Promise<void> {
  const run = await runFrom(
    m,
    arg,
    (r) => !!r.study.name,
    'Show the study of which run?',
    'No run has a known study yet.',
  );
  const study = run && m.studyOf(run);
  if (!study) {
    if (run)
      void vscode.window.showInformationMessage(
        `The study of ${run.label} is not in the storage yet.`,
      );
    return;
  }
  const node: Node = { kind: 'study', id: `study:${study.key}`, study };
  await vscode.commands.executeCommand('optunaStorage.showTrials', node);
}

export async function copyCommand(m: RunManager, arg: RunArg): Promise<void> {
  const run = await runFrom(
    m,
    arg,
    () => true,
    'Copy the command line of which run?',
    'No optimizer runs yet.',
  );
  if (run) await vscode.env.clipboard.writeText(run.command);
}

export async function remove(m: RunManager, arg: RunArg): Promise<void> {
  const run = await runFrom(
    m,
    arg,
    (r) => r.state !== 'running',
    'Remove which run from the history?',
    'No finished runs.',
  );
  if (run) await m.remove(run);
}

export async function clearFinished(m: RunManager): Promise<void> {
  await m.clearFinished();
}

/** The Runs view's commands, by id (registered with the others in registerCommands.ts). */
export function runCommands(s: Services, m: RunManager): Record<string, (arg?: RunArg) => unknown> {
  return {
    'optunaStorage.runs.launch': () => launch(s, m),
    'optunaStorage.runs.stop': (a) => stop(m, a),
    'optunaStorage.runs.relaunch': (a) => relaunch(m, a),
    'optunaStorage.runs.nextStage': (a) => nextStage(m, a),
    'optunaStorage.runs.reattach': (a) => reattach(m, a),
    'optunaStorage.runs.showTerminal': (a) => showTerminal(m, a),
    'optunaStorage.runs.showStudy': (a) => showStudy(m, a),
    'optunaStorage.runs.copyCommand': (a) => copyCommand(m, a),
    'optunaStorage.runs.remove': (a) => remove(m, a),
    'optunaStorage.runs.clearFinished': () => clearFinished(m),
  };
}
