/**
 * Defaults of the optunaStorage.runs.* settings (package.json declares the same values; an
 * extension-host test checks that they agree).
 */

/**
 * The generic default: any Optuna script that takes a trial budget and reads the storage from
 * the OPTUNA_STORAGE_* environment variables the run gets.
 */
export const DEFAULT_TEMPLATE = 'python3 {script} --n-trials {trials}';

export const DEFAULT_PARAMETERS = [
  {
    name: 'script',
    type: 'string',
    default: 'optimize.py',
    pattern: '^[A-Za-z0-9_./-]+$',
    description: 'your Optuna script, relative to the working directory',
  },
  {
    name: 'trials',
    type: 'int',
    min: 1,
    max: 10000000,
    default: 100,
    role: 'trials',
    description: 'trials to run',
  },
];

export const DEFAULT_NAME_TEMPLATE = '{script}';

/** The guide's optimizer script and its flags: shipped as a profile of its own. */
export const GUIDE_TEMPLATE =
  './run_optimizer.sh -m {mode} --method {method} --strategy {strategy} --start {start} --end {end} --min {min} --max {max} --jobs {jobs} --trials {trials} --hold {hold} --factors {factors}';

export const GUIDE_NAME_TEMPLATE = '{method} {strategy}';

export const GUIDE_PARAMETERS = [
  {
    name: 'mode',
    type: 'string',
    default: 'continuous',
    pattern: '^[A-Za-z0-9_-]+$',
    description: 'run mode (-m)',
  },
  {
    name: 'method',
    type: 'choice',
    choices: ['tpe', 'random', 'cmaes', 'qmc', 'nsga2'],
    default: 'tpe',
    description: 'sampler',
  },
  { name: 'strategy', type: 'string', default: 'multistage', pattern: '^[A-Za-z0-9_-]+$' },
  { name: 'start', type: 'date', default: '20220729', description: 'first day of the data window' },
  {
    name: 'end',
    type: 'date',
    default: '20240607',
    atLeast: 'start',
    description: 'last day of the data window',
  },
  { name: 'min', type: 'int', min: 1, default: 100 },
  { name: 'max', type: 'int', min: 1, default: 150, atLeast: 'min' },
  {
    name: 'jobs',
    type: 'int',
    min: 1,
    max: 1024,
    default: 10,
    role: 'jobs',
    description: 'parallel workers',
  },
  {
    name: 'trials',
    type: 'int',
    min: 1,
    max: 10000000,
    default: 200,
    role: 'trials',
    description: 'trials to run',
  },
  { name: 'hold', type: 'int', min: 0, default: 5 },
  { name: 'factors', type: 'int', min: 1, default: 3 },
];
