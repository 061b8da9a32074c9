import * as vscode from 'vscode';
import {
  checkOrder,
  checkValue,
  describeParam,
  type ParamSpec,
  type Values,
} from '../../core/runs/params';
import { studyParam } from '../../core/runs/template';
import type { MergedStudy } from '../../core/storage/mergedView';
import { BACK, inputStep, pickStep, type StepPosition, type StepResult } from './multiStepInput';

/*
 * The launch form's single-value steps, each opened from its review (launchForm.ts) to change
 * one thing: a parameter's value, the journal prefix, the study, terminal or tmux.
 */

/** What these steps read and change of the form's state. */
export interface ValueState {
  values: Values;
  params: ParamSpec[];
  prefix: string | undefined;
  study: string;
  tmux: boolean;
}

/** One value: a pick for choices, else an input validated as typed (and against `atLeast`). */
export async function editStep(
  at: StepPosition,
  studiesOf: MergedStudy[],
  state: ValueState,
  p: ParamSpec,
): Promise<StepResult<true>> {
  const current = state.values[p.name] ?? '';
  const name = p.label ?? p.name;
  if (p.type === 'choice') {
    const items = (p.choices ?? []).map((c) => ({
      label: c,
      description: c === current ? 'current' : undefined,
    }));
    const r = await pickStep(at, {
      items,
      active: items.find((i) => i.label === current),
      placeholder: `${name}${p.description ? ` — ${p.description}` : ''}`,
    });
    if (r === BACK || r === undefined) return r;
    state.values[p.name] = r.label;
    return true;
  }
  const studies =
    p === studyParam(state.params)
      ? studiesOf
          .filter((s) => state.prefix === undefined || s.prefix === state.prefix)
          .map((s) => s.name)
      : [];
  const other = p.atLeast ? state.params.find((q) => q.name === p.atLeast) : undefined;
  const r = await inputStep(at, {
    value: current,
    prompt: `${name}${p.description ? ` — ${p.description}` : ''} (${describeParam(p)})`,
    placeholder: studies.length
      ? `existing: ${studies.slice(0, 5).join(', ')}${studies.length > 5 ? ', …' : ''}`
      : undefined,
    validate: (v) => {
      const c = checkValue(p, v);
      if (!c.ok) return c.message;
      return other && state.values[other.name] !== undefined
        ? checkOrder(p, c.value, other, state.values[other.name])
        : undefined;
    },
  });
  if (r === BACK || r === undefined) return r;
  const c = checkValue(p, r);
  state.values[p.name] = c.ok ? c.value : r;
  return true;
}

export async function prefixStep(
  at: StepPosition,
  prefixes: string[],
  studies: MergedStudy[],
  state: ValueState,
): Promise<StepResult<true>> {
  const items = prefixes.map((p) => ({
    label: p === '' ? '"" (Optuna default)' : p,
    prefix: p,
    description: `${studies.filter((s) => s.prefix === p).length} studies`,
  }));
  const r = await pickStep(at, {
    items,
    active: items.find((i) => i.prefix === state.prefix),
    placeholder: 'Journal prefix the run writes under (passed as OPTUNA_STORAGE_REDIS_PREFIX)',
  });
  if (r === BACK || r === undefined) return r;
  state.prefix = r.prefix;
  return true;
}

export async function studyStep(
  at: StepPosition,
  studies: MergedStudy[],
  state: ValueState,
): Promise<StepResult<true>> {
  const under = studies.filter((s) => state.prefix === undefined || s.prefix === state.prefix);
  const items: Array<vscode.QuickPickItem & { study: string }> = [
    {
      study: '',
      label: '$(search) Detect automatically',
      description: 'the study that appears or grows after launch',
    },
    ...under.map((s) => ({
      study: s.name,
      label: `$(beaker) ${s.name}`,
      description: `${s.trials.length} trials${s.prefix !== undefined ? ` · prefix "${s.prefix}"` : ''}`,
    })),
  ];
  const r = await pickStep(at, {
    items,
    active: items.find((i) => i.study === state.study) ?? items[0],
    placeholder: 'Which study does this run write to? (the template has no {study} placeholder)',
  });
  if (r === BACK || r === undefined) return r;
  state.study = r.study;
  return true;
}

export async function tmuxStep(at: StepPosition, state: ValueState): Promise<StepResult<true>> {
  const items = [
    {
      tmux: false,
      label: '$(terminal) VS Code terminal',
      description: 'the run ends when the terminal or the connection closes',
    },
    {
      tmux: true,
      label: '$(server-process) tmux session',
      description: 'survives a dropped SSH connection; re-attach from the Runs view',
    },
  ];
  const r = await pickStep(at, {
    items,
    active: items.find((i) => i.tmux === state.tmux),
    placeholder: 'Where should the run live?',
  });
  if (r === BACK || r === undefined) return r;
  state.tmux = r.tmux;
  return true;
}
