import * as vscode from 'vscode';
import {
  checkOrder,
  checkValue,
  defaultValues,
  describeParam,
  type ParamSpec,
  type Values,
} from '../../core/runs/params';
import { type Profile, profileValues, summarizeValues } from '../../core/runs/profiles';
import { studyParam } from '../../core/runs/template';
import type { MergedStudy } from '../../core/storage/mergedView';
import { BACK, inputStep, pickStep, type StepPosition, type StepResult } from './multiStepInput';
import type { RunSettings } from './runSettings';

/** What the form remembers per workspace for the next launch. */
export interface LastLaunch {
  values: Values;
  profile?: string;
  stage?: number;
  tmux?: boolean;
  /** Study picked at launch ('' = detect automatically), for templates without `{study}`. */
  study?: string;
  prefix?: string;
}

/** What the user chose; `study` is undefined when the template itself names the study. */
export interface LaunchChoice {
  values: Values;
  profile?: string;
  stage?: number;
  tmux: boolean;
  study: { name: string } | 'auto' | undefined;
  prefix: string | undefined;
}

export interface FormContext {
  settings: RunSettings;
  /** The parameters the template uses. */
  params: ParamSpec[];
  studies: MergedStudy[];
  /** Journal prefixes to choose from (a step only when there is more than one). */
  prefixes: string[];
  defaultPrefix: string | undefined;
  last: LastLaunch | undefined;
  tmuxAvailable: boolean;
  preview(choice: LaunchChoice): { command: string; label: string } | { error: string };
}

export const FORM_TITLE = 'Launch optimizer run';

type ProfileItem = vscode.QuickPickItem & {
  key: string;
  useLast: boolean;
  profile?: Profile;
  stage?: number;
};
type Step = (pos: StepPosition) => Promise<StepResult<true>>;

/**
 * The launch form: profile, then one step per parameter, then (as needed) journal prefix,
 * study, terminal or tmux, and a last step that shows the exact command line. Back goes to
 * the previous step with its value kept; Escape cancels.
 */
export async function launchForm(ctx: FormContext): Promise<LaunchChoice | undefined> {
  const { settings, params, last } = ctx;
  const named = studyParam(params);
  const state = {
    profileKey: last ? (last.profile ? profileKey(last.profile, last.stage) : 'last') : 'defaults',
    appliedKey: '',
    values: { ...defaultValues(params), ...(last?.values ?? {}) } as Values,
    profile: last?.profile,
    stage: last?.stage,
    prefix: ctx.prefixes.includes(last?.prefix ?? '\0') ? last!.prefix : ctx.defaultPrefix,
    study: last?.study ?? '',
    tmux: ctx.tmuxAvailable && (last?.tmux ?? settings.useTmux),
  };
  const choice = (): LaunchChoice => ({
    values: state.values,
    profile: state.profile,
    stage: state.stage,
    tmux: state.tmux,
    study: named ? undefined : state.study ? { name: state.study } : 'auto',
    prefix: state.prefix,
  });

  const steps: Step[] = [];
  steps.push(async (pos) => {
    const items: ProfileItem[] = [];
    if (last)
      items.push({
        key: 'last',
        useLast: true,
        label: '$(history) Last used values',
        description: summarizeValues(pick(last.values, ['jobs', 'trials'])),
        detail: last.profile
          ? `from ${last.profile}${last.stage !== undefined ? ` stage ${last.stage + 1}` : ''}`
          : undefined,
      });
    items.push({
      key: 'defaults',
      useLast: false,
      label: '$(symbol-constant) Defaults',
      description: 'from optunaStorage.runs.parameters',
    });
    for (const p of settings.profiles) {
      if (p.stages) {
        p.stages.forEach((_s, i) =>
          items.push({
            key: profileKey(p.name, i),
            useLast: !!last,
            profile: p,
            stage: i,
            label: `$(rocket) ${p.name}: stage ${i + 1} of ${p.stages!.length}`,
            description: summarizeValues(profileValues(p, i)),
            detail: i === 0 ? p.description : undefined,
          }),
        );
      } else {
        items.push({
          key: profileKey(p.name),
          useLast: !!last,
          profile: p,
          label: `$(symbol-namespace) ${p.name}`,
          description: summarizeValues(p.values),
          detail: p.description,
        });
      }
    }
    const r = await pickStep(pos, {
      items,
      active: items.find((i) => i.key === state.profileKey),
      placeholder: 'Start from which values? (every value can be changed in the next steps)',
    });
    if (r === BACK || r === undefined) return r;
    state.profileKey = r.key;
    // Re-apply only when the pick changed, so Back → same profile keeps the edits.
    if (state.appliedKey !== r.key) {
      state.appliedKey = r.key;
      state.values = {
        ...defaultValues(params),
        ...(r.useLast && last ? last.values : {}),
        ...(r.profile ? profileValues(r.profile, r.stage) : {}),
      };
      state.profile = r.profile?.name ?? (r.key === 'last' ? last?.profile : undefined);
      state.stage = r.profile ? r.stage : r.key === 'last' ? last?.stage : undefined;
    }
    return true;
  });

  params.forEach((p, index) => {
    steps.push(async (pos) => {
      const current = state.values[p.name] ?? '';
      const name = p.label ?? p.name;
      if (p.type === 'choice') {
        const items = (p.choices ?? []).map((c) => ({
          label: c,
          description: c === current ? 'current' : undefined,
        }));
        const r = await pickStep(pos, {
          items,
          active: items.find((i) => i.label === current),
          placeholder: `${name}${p.description ? ` — ${p.description}` : ''}`,
        });
        if (r === BACK || r === undefined) return r;
        state.values[p.name] = r.label;
        return true;
      }
      const earlier = params.slice(0, index);
      const studies =
        p === named
          ? ctx.studies
              .filter((s) => state.prefix === undefined || s.prefix === state.prefix)
              .map((s) => s.name)
          : [];
      const r = await inputStep(pos, {
        value: current,
        prompt: `${name}${p.description ? ` — ${p.description}` : ''} (${describeParam(p)})`,
        placeholder: studies.length
          ? `existing: ${studies.slice(0, 5).join(', ')}${studies.length > 5 ? ', …' : ''}`
          : undefined,
        validate: (v) => {
          const c = checkValue(p, v);
          if (!c.ok) return c.message;
          const other = p.atLeast ? earlier.find((q) => q.name === p.atLeast) : undefined;
          return other && state.values[other.name] !== undefined
            ? checkOrder(p, c.value, other, state.values[other.name])
            : undefined;
        },
      });
      if (r === BACK || r === undefined) return r;
      const c = checkValue(p, r);
      state.values[p.name] = c.ok ? c.value : r;
      return true;
    });
  });

  if (ctx.prefixes.length > 1) {
    steps.push(async (pos) => {
      const items = ctx.prefixes.map((p) => ({
        label: p === '' ? '"" (Optuna default)' : p,
        prefix: p,
        description: `${ctx.studies.filter((s) => s.prefix === p).length} studies`,
      }));
      const r = await pickStep(pos, {
        items,
        active: items.find((i) => i.prefix === state.prefix),
        placeholder: 'Journal prefix the run writes under (passed as OPTUNA_STORAGE_REDIS_PREFIX)',
      });
      if (r === BACK || r === undefined) return r;
      state.prefix = r.prefix;
      return true;
    });
  }

  if (!named) {
    steps.push(async (pos) => {
      const under = ctx.studies.filter(
        (s) => state.prefix === undefined || s.prefix === state.prefix,
      );
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
      const r = await pickStep(pos, {
        items,
        active: items.find((i) => i.study === state.study) ?? items[0],
        placeholder:
          'Which study does this run write to? (the template has no {study} placeholder)',
      });
      if (r === BACK || r === undefined) return r;
      state.study = r.study;
      return true;
    });
  }

  if (ctx.tmuxAvailable) {
    steps.push(async (pos) => {
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
      const r = await pickStep(pos, {
        items,
        active: items.find((i) => i.tmux === state.tmux),
        placeholder: 'Where should the run live?',
      });
      if (r === BACK || r === undefined) return r;
      state.tmux = r.tmux;
      return true;
    });
  }

  steps.push(async (pos) => {
    const p = ctx.preview(choice());
    if ('error' in p) {
      const r = await pickStep(pos, {
        items: [{ label: '$(error) Cannot launch', detail: p.error }],
        placeholder: 'Go back and fix the values',
      });
      return r === undefined ? undefined : BACK;
    }
    const where = state.tmux ? 'a tmux session' : 'a terminal';
    const study = named
      ? `study ${state.values[named.name]}`
      : state.study
        ? `study ${state.study}`
        : 'the study it creates or grows';
    const r = await pickStep(pos, {
      items: [
        {
          label: `$(rocket) Launch ${p.label}`,
          description: `in ${where}, watching ${study}`,
          detail: p.command,
        },
      ],
      placeholder: 'Check the command line, then press Enter',
    });
    if (r === BACK || r === undefined) return r;
    return true;
  });

  for (let i = 0; i < steps.length;) {
    const r = await steps[i]({ title: FORM_TITLE, step: i + 1, totalSteps: steps.length });
    if (r === undefined) return undefined;
    i = r === BACK ? Math.max(0, i - 1) : i + 1;
  }
  return choice();
}

function profileKey(name: string, stage?: number): string {
  return `p:${name}${stage !== undefined ? `#${stage}` : ''}`;
}

function pick(v: Values, keys: string[]): Values {
  const out: Values = {};
  for (const k of keys) if (v[k] !== undefined) out[k] = v[k];
  return out;
}
