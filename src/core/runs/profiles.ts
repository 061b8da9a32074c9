import { GUIDE_NAME_TEMPLATE, GUIDE_PARAMETERS, GUIDE_TEMPLATE } from './defaults';
import { normalizeParams, type ParamSpec, type Values } from './params';

/**
 * A named set of values for the launch form. A profile with `stages` is a ramp: each stage
 * overrides some values (usually jobs and trials), and a run launched at one stage can be
 * relaunched at the next once it proved stable.
 */
export interface Profile {
  name: string;
  description?: string;
  values: Values;
  stages?: Values[];
  /** A command of its own (else the optunaStorage.runs.* settings' template and parameters). */
  command?: RunCommand;
  builtin?: boolean;
}

/** What a run executes: the template, its parameters, and how runs are named. */
export interface RunCommand {
  template: string;
  params: ParamSpec[];
  nameTemplate: string;
}

/** The command of a run launched from `profile`: the profile's own, else the settings' one. */
export function commandOf(profile: Profile | undefined, settings: RunCommand): RunCommand {
  return profile?.command ?? settings;
}

/** Ramp up parallelism and budget in steps: 10 jobs/200 trials, 15/500, 25/1000, 30/2000. */
export const STAGED_RAMP: Profile = {
  name: 'Staged ramp',
  description: 'ramp up jobs and trials as stability allows',
  values: {},
  stages: [
    { jobs: '10', trials: '200' },
    { jobs: '15', trials: '500' },
    { jobs: '25', trials: '1000' },
    { jobs: '30', trials: '2000' },
  ],
  builtin: true,
};

const RAMP_STAGES = STAGED_RAMP.stages!;

/** The guide's run_optimizer.sh with its flags, ramped like the built-in ramp. */
export const GUIDE_PROFILE: Profile = {
  name: 'run_optimizer.sh (guide)',
  description: "the guide's optimizer script and flags; ramp 10 jobs/200 trials up to 30/2000",
  values: {},
  stages: RAMP_STAGES,
  command: {
    template: GUIDE_TEMPLATE,
    params: normalizeParams(GUIDE_PARAMETERS).params,
    nameTemplate: GUIDE_NAME_TEMPLATE,
  },
  builtin: true,
};

const BUILTIN = [STAGED_RAMP, GUIDE_PROFILE];

function toValues(raw: unknown): Values | undefined {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return undefined;
  const out: Values = {};
  for (const [k, v] of Object.entries(raw)) {
    if (typeof v !== 'string' && typeof v !== 'number') return undefined;
    out[k] = String(v);
  }
  return out;
}

/**
 * Profiles from settings (arbitrary JSON) plus the built-in ramp; a user profile with the same
 * name replaces the built-in one. Unusable entries are reported, not half-applied.
 */
export function normalizeProfiles(raw: unknown): { profiles: Profile[]; problems: string[] } {
  const problems: string[] = [];
  const user: Profile[] = [];
  if (Array.isArray(raw)) {
    raw.forEach((r, i) => {
      const o =
        r && typeof r === 'object' && !Array.isArray(r)
          ? (r as Record<string, unknown>)
          : undefined;
      if (!o || typeof o.name !== 'string' || o.name.trim() === '')
        return void problems.push(`profile ${i + 1} needs a "name"`);
      const values = o.values === undefined ? {} : toValues(o.values);
      if (!values)
        return void problems.push(
          `profile "${o.name}": "values" must map parameter names to strings or numbers`,
        );
      let stages: Values[] | undefined;
      if (o.stages !== undefined) {
        const list = Array.isArray(o.stages) ? o.stages.map(toValues) : [undefined];
        if (list.length === 0 || list.some((s) => !s))
          return void problems.push(
            `profile "${o.name}": "stages" must be a non-empty list of value maps`,
          );
        stages = list as Values[];
      }
      if (user.some((p) => p.name === o.name))
        return void problems.push(`profile "${o.name}" is defined twice`);
      let command: RunCommand | undefined;
      if (o.commandTemplate !== undefined) {
        if (typeof o.commandTemplate !== 'string' || o.commandTemplate.trim() === '')
          return void problems.push(
            `profile "${o.name}": "commandTemplate" must be a command line`,
          );
        const params = normalizeParams(o.parameters ?? []);
        problems.push(...params.problems.map((m) => `profile "${o.name}": ${m}`));
        command = {
          template: o.commandTemplate,
          params: params.params,
          nameTemplate: typeof o.nameTemplate === 'string' ? o.nameTemplate : o.name,
        };
      }
      user.push({
        name: o.name,
        description: typeof o.description === 'string' ? o.description : undefined,
        values,
        stages,
        command,
      });
    });
  } else if (raw !== undefined) problems.push('the profiles setting must be an array');
  const profiles = [...user, ...BUILTIN.filter((b) => !user.some((p) => p.name === b.name))];
  return { profiles, problems };
}

/** The values a profile (at a stage, for ramps) sets. */
export function profileValues(p: Profile, stage?: number): Values {
  return { ...p.values, ...(stage !== undefined ? (p.stages?.[stage] ?? {}) : {}) };
}

/**
 * Which stage of a ramp a set of values is at: the explicit one, else the last stage whose
 * every value matches (a run launched by hand with 15 jobs and 500 trials is at stage 2).
 */
export function stageOf(p: Profile, values: Values, explicit?: number): number | undefined {
  if (!p.stages) return undefined;
  if (explicit !== undefined && explicit >= 0 && explicit < p.stages.length) return explicit;
  for (let i = p.stages.length - 1; i >= 0; i--) {
    if (Object.entries(p.stages[i]).every(([k, v]) => values[k] === v)) return i;
  }
  return undefined;
}

/**
 * The values for the next stage of a ramp (the run's own values with the stage's on top). A run
 * at no known stage moves to the first stage that is at least its values in every numeric key
 * and above them in one (10 jobs/300 trials → 15/500; nothing is ever ramped down).
 */
export function nextStageValues(
  p: Profile,
  values: Values,
  stage: number | undefined,
): { stage: number; values: Values } | undefined {
  if (!p.stages) return undefined;
  let next = stage === undefined ? -1 : stage + 1;
  if (stage === undefined) next = p.stages.findIndex((s) => above(s, values));
  if (next < 0 || next >= p.stages.length) return undefined;
  return { stage: next, values: { ...values, ...profileValues(p, next) } };
}

function above(stage: Values, values: Values): boolean {
  let more = false;
  for (const [k, v] of Object.entries(stage)) {
    const a = Number(v);
    const b = Number(values[k]);
    if (!Number.isFinite(a) || !Number.isFinite(b)) continue;
    if (a < b) return false;
    if (a > b) more = true;
  }
  return more;
}

/** "10 jobs · 200 trials" for a stage or a profile. */
export function summarizeValues(v: Values): string {
  return Object.entries(v)
    .map(([k, x]) => (k === 'jobs' || k === 'trials' ? `${x} ${k}` : `${k} ${x}`))
    .join(' · ');
}
