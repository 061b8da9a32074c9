import * as vscode from 'vscode';
import { checkValue, defaultValues, type ParamSpec, type Values } from '../../core/runs/params';
import { type Profile, profileValues, summarizeValues } from '../../core/runs/profiles';
import { studyParam } from '../../core/runs/template';
import type { MergedStudy } from '../../core/storage/mergedView';
import { BACK, pickStep, type StepPosition, type StepResult } from './multiStepInput';
import type { RunSettings } from './runSettings';
import { editStep, prefixStep, studyStep, tmuxStep } from './launchValueSteps';

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
  /** The parameters the command of a profile (or of the settings) uses, or why it cannot run. */
  paramsFor(profile: string | undefined): ParamSpec[] | { error: string };
  studies: MergedStudy[];
  /** Journal prefixes to choose from (offered only when there is more than one). */
  prefixes: string[];
  defaultPrefix: string | undefined;
  last: LastLaunch | undefined;
  tmuxAvailable: boolean;
  preview(choice: LaunchChoice): { command: string; label: string } | { error: string };
}

export const FORM_TITLE = 'Launch optimizer run';
/** The review step's placeholder (scripted users in the tests find the step by it). */
export const REVIEW_PLACEHOLDER =
  'Check the command line, then press Enter to launch, or pick a value to change it';

type ProfileItem = vscode.QuickPickItem & {
  key: string;
  useLast: boolean;
  profile?: Profile;
  stage?: number;
};
type ReviewItem = vscode.QuickPickItem & {
  action: 'launch' | 'blocked' | 'param' | 'prefix' | 'study' | 'tmux' | 'none';
  param?: ParamSpec;
};

const PROFILE_STEP: StepPosition = { title: FORM_TITLE, step: 1, totalSteps: 2 };
const REVIEW_STEP: StepPosition = { title: FORM_TITLE, step: 2, totalSteps: 2 };

/**
 * The launch form in two steps: where the values start from (last used, defaults, a profile
 * or a ramp stage), then one review showing the exact command line with every value; Enter
 * launches, picking a value changes it (and comes back to the review). Only a value that is
 * missing and has no default is asked for before the review. Back keeps what was typed.
 */
export async function launchForm(ctx: FormContext): Promise<LaunchChoice | undefined> {
  const { last } = ctx;
  const state = {
    profileKey: last ? (last.profile ? profileKey(last.profile, last.stage) : 'last') : 'defaults',
    appliedKey: '',
    values: {} as Values,
    params: [] as ParamSpec[],
    profile: last?.profile,
    stage: last?.stage,
    prefix: ctx.prefixes.includes(last?.prefix ?? '\0') ? last!.prefix : ctx.defaultPrefix,
    study: last?.study ?? '',
    tmux: ctx.tmuxAvailable && (last?.tmux ?? ctx.settings.useTmux),
  };
  const choice = (): LaunchChoice => ({
    values: state.values,
    profile: state.profile,
    stage: state.stage,
    tmux: state.tmux,
    study: studyParam(state.params) ? undefined : state.study ? { name: state.study } : 'auto',
    prefix: state.prefix,
  });

  for (;;) {
    const picked = await profileStep(ctx, state);
    if (picked === undefined) return undefined;
    // Values nothing provides (no default, not in the profile) are asked for right away.
    let cancelled = false;
    for (const p of state.params.filter((q) => !checkValue(q, state.values[q.name] ?? '').ok)) {
      const r = await editStep(REVIEW_STEP, ctx.studies, state, p);
      if (r === undefined) return undefined;
      if (r === BACK) {
        cancelled = true;
        break;
      }
    }
    if (cancelled) continue;
    const reviewed = await reviewLoop(ctx, state, choice);
    if (reviewed === undefined) return undefined;
    if (reviewed === true) return choice();
  }
}

type FormState = {
  profileKey: string;
  appliedKey: string;
  values: Values;
  params: ParamSpec[];
  profile: string | undefined;
  stage: number | undefined;
  prefix: string | undefined;
  study: string;
  tmux: boolean;
};

async function profileStep(ctx: FormContext, state: FormState): Promise<true | undefined> {
  const { last, settings } = ctx;
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
    description: `${settings.template.split(/\s+/).slice(0, 3).join(' ')}… (optunaStorage.runs settings)`,
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
  for (;;) {
    const r = await pickStep(PROFILE_STEP, {
      items,
      active: items.find((i) => i.key === state.profileKey),
      placeholder: 'Start from which values? (the next step shows them all, each can be changed)',
    });
    if (r === BACK || r === undefined) return undefined;
    const profile = r.profile?.name ?? (r.key === 'last' ? last?.profile : undefined);
    const params = ctx.paramsFor(profile);
    if ('error' in params) {
      const settingsItem = { label: '$(gear) Open the run settings' };
      const fix = await pickStep(REVIEW_STEP, {
        items: [
          { label: '$(error) This command cannot be launched', detail: params.error },
          settingsItem,
        ],
        placeholder: 'Go back and pick other values, or fix the command template in the settings',
      });
      if (fix === settingsItem) {
        await vscode.commands.executeCommand('workbench.action.openSettings', 'optunaStorage.runs');
        return undefined;
      }
      if (fix === undefined) return undefined;
      continue;
    }
    state.profileKey = r.key;
    // Re-apply only when the pick changed, so Back → same profile keeps the edits.
    if (state.appliedKey !== r.key) {
      state.appliedKey = r.key;
      state.params = params;
      state.values = {
        ...defaultValues(params),
        ...(r.useLast && last ? last.values : {}),
        ...(r.profile ? profileValues(r.profile, r.stage) : {}),
      };
      state.profile = profile;
      state.stage = r.profile ? r.stage : r.key === 'last' ? last?.stage : undefined;
    }
    return true;
  }
}

/** The review: Enter launches; a picked value is edited and the review shown again. */
async function reviewLoop(
  ctx: FormContext,
  state: FormState,
  choice: () => LaunchChoice,
): Promise<true | typeof BACK | undefined> {
  let active: string | undefined;
  for (;;) {
    const preview = ctx.preview(choice());
    const where = state.tmux ? 'a tmux session' : 'a terminal';
    const named = studyParam(state.params);
    const studyText = named
      ? `study ${state.values[named.name]}`
      : state.study
        ? `study ${state.study}`
        : 'the study it creates or grows';
    const items: ReviewItem[] = [
      'error' in preview
        ? { action: 'blocked', label: '$(error) Cannot launch yet', detail: preview.error }
        : {
            action: 'launch',
            label: `$(rocket) Launch ${preview.label}`,
            description: `in ${where}, watching ${studyText}`,
            detail: preview.command,
          },
      { action: 'none', label: 'values', kind: vscode.QuickPickItemKind.Separator },
      ...state.params.map((p): ReviewItem => ({
        action: 'param',
        param: p,
        label: `$(edit) ${p.label ?? p.name}: ${state.values[p.name] ?? ''}`,
        description: p.description,
      })),
    ];
    if (ctx.prefixes.length > 1)
      items.push({
        action: 'prefix',
        label: `$(symbol-key) journal prefix: ${state.prefix === '' ? '"" (Optuna default)' : (state.prefix ?? '')}`,
        description: 'passed as OPTUNA_STORAGE_REDIS_PREFIX',
      });
    if (!named)
      items.push({
        action: 'study',
        label: `$(beaker) study: ${state.study || 'detect automatically'}`,
        description: 'the template has no {study} placeholder',
      });
    if (ctx.tmuxAvailable)
      items.push({
        action: 'tmux',
        label: `$(terminal) runs in: ${state.tmux ? 'a tmux session' : 'a VS Code terminal'}`,
        description: state.tmux
          ? 'survives a dropped SSH connection'
          : 'ends when the terminal or the connection closes',
      });
    const r = await pickStep(REVIEW_STEP, {
      items,
      active: items.find((i) => i.label === active) ?? items[0],
      placeholder: REVIEW_PLACEHOLDER,
    });
    if (r === undefined || r === BACK) return r;
    active = r.label;
    let edited: StepResult<true> = true;
    if (r.action === 'launch') return true;
    if (r.action === 'param') edited = await editStep(REVIEW_STEP, ctx.studies, state, r.param!);
    if (r.action === 'prefix')
      edited = await prefixStep(REVIEW_STEP, ctx.prefixes, ctx.studies, state);
    if (r.action === 'study') edited = await studyStep(REVIEW_STEP, ctx.studies, state);
    if (r.action === 'tmux') edited = await tmuxStep(REVIEW_STEP, state);
    if (edited === undefined) return undefined;
    if (typeof edited === 'boolean') {
      // The changed value's row has a new label: keep the cursor on it.
      if (r.action === 'param')
        active = `$(edit) ${r.param!.label ?? r.param!.name}: ${state.values[r.param!.name] ?? ''}`;
      else active = undefined;
    }
  }
}

function profileKey(name: string, stage?: number): string {
  return `p:${name}${stage !== undefined ? `#${stage}` : ''}`;
}

function pick(v: Values, keys: string[]): Values {
  const out: Values = {};
  for (const k of keys) if (v[k] !== undefined) out[k] = v[k];
  return out;
}
