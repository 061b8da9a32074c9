import * as assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  checkValue,
  checkValues,
  isCalendarDate,
  normalizeParams,
  type ParamSpec,
} from '../../src/core/runs/params';
import { GUIDE_TEMPLATE } from '../../src/core/runs/defaults';
import {
  commandOf,
  nextStageValues,
  normalizeProfiles,
  profileValues,
  STAGED_RAMP,
  stageOf,
} from '../../src/core/runs/profiles';
import { computeProgress, detectStudy } from '../../src/core/runs/progress';
import { runFiles, runScript, tmuxLauncher, tmuxSessionName } from '../../src/core/runs/runner';
import { shellQuote } from '../../src/core/runs/shell';
import {
  buildCommand,
  fillTemplate,
  parseTemplate,
  runLabel,
  templateParams,
  TemplateError,
} from '../../src/core/runs/template';
import type { Trial } from '../../src/core/optuna/model';
import { processAlive } from '../../src/core/processAlive';

const DEFAULT_TEMPLATE =
  './run_optimizer.sh -m {mode} --method {method} --strategy {strategy} --start {start} --end {end} --min {min} --max {max} --jobs {jobs} --trials {trials} --hold {hold} --factors {factors}';
const SCHEMA: ParamSpec[] = [
  { name: 'mode', type: 'string', default: 'continuous' },
  { name: 'method', type: 'choice', choices: ['tpe', 'random', 'cmaes'], default: 'tpe' },
  { name: 'strategy', type: 'string', default: 'multistage' },
  { name: 'start', type: 'date', default: '20220729' },
  { name: 'end', type: 'date', default: '20240607', atLeast: 'start' },
  { name: 'min', type: 'int', min: 1, default: 100 },
  { name: 'max', type: 'int', min: 1, default: 150, atLeast: 'min' },
  { name: 'jobs', type: 'int', min: 1, max: 1024, default: 10 },
  { name: 'trials', type: 'int', min: 1, default: 200 },
  { name: 'hold', type: 'int', min: 0, default: 5 },
  { name: 'factors', type: 'int', min: 1, default: 3 },
  { name: 'lr', type: 'number', min: 0, max: 1 },
];
const VALUES = {
  mode: 'continuous',
  method: 'tpe',
  strategy: 'multistage',
  start: '20220729',
  end: '20240607',
  min: '100',
  max: '150',
  jobs: '10',
  trials: '200',
  hold: '5',
  factors: '3',
};

/** Values a user could type that a shell would execute if they were spliced in unquoted. */
const HOSTILE = (canary: string): string[] => [
  `x; touch ${canary}`,
  `$(touch ${canary})`,
  `\`touch ${canary}\``,
  `x && touch ${canary}`,
  `x || touch ${canary}`,
  `x | tee ${canary}`,
  `x > ${canary}`,
  `'; touch ${canary}; '`,
  `"; touch ${canary}; "`,
  `it's "quoted" $(touch ${canary}) \`touch ${canary}\``,
  `'\\''; touch ${canary}; echo '`,
  `\\'; touch ${canary} #`,
  `$((1+1))`,
  `\${HOME}`,
  `$HOME`,
  '~',
  '*',
  '/*',
  '?',
  '[a-z]*',
  '{a,b}',
  '!!',
  '#comment',
  `& touch ${canary} &`,
  `<(touch ${canary})`,
  ' leading and trailing ',
  '-rf',
  'naïve ☃ 😀',
];

function bash(
  shell: string,
  script: string,
  cwd: string,
): Promise<{ stdout: string; code: number }> {
  return new Promise((resolve) => {
    execFile(shell, ['-c', script], { cwd }, (err, stdout) =>
      resolve({ stdout, code: err ? Number((err as { code?: number }).code ?? 1) : 0 }),
    );
  });
}

describe('runs: shell quoting', () => {
  it('leaves plain words bare and single-quotes everything else', () => {
    assert.equal(shellQuote('20220729'), '20220729');
    assert.equal(shellQuote('--flag=a/b.c'), '--flag=a/b.c');
    assert.equal(shellQuote(''), "''");
    assert.equal(shellQuote('a b'), "'a b'");
    assert.equal(shellQuote("it's"), "'it'\\''s'");
    assert.equal(shellQuote('$(x)'), "'$(x)'");
    assert.equal(shellQuote('*'), "'*'");
    assert.equal(shellQuote('~'), "'~'");
  });
});

describe('runs: parameter validation', () => {
  const p = (over: Partial<ParamSpec>): ParamSpec =>
    ({ name: 'x', type: 'int', ...over }) as ParamSpec;

  it('integers: digits only, within the range, normalized', () => {
    assert.deepEqual(checkValue(p({ min: 1, max: 30 }), ' 010 '), { ok: true, value: '10' });
    for (const bad of ['1.5', '1e3', '10; rm -rf /', '$(echo 1)', '0x10', '', '1 2', '١٢'])
      assert.equal(checkValue(p({}), bad).ok, false, bad);
    assert.match(
      (checkValue(p({ min: 1, max: 30 }), '31') as { message: string }).message,
      /from 1 to 30/,
    );
    assert.match((checkValue(p({ min: 1 }), '0') as { message: string }).message, /at least 1/);
    assert.equal(checkValue(p({}), '99999999999999999999').ok, false);
  });

  it('numbers: decimal or exponent notation only, finite, within the range', () => {
    const n = p({ type: 'number', min: 0, max: 1 });
    assert.deepEqual(checkValue(n, '0.25'), { ok: true, value: '0.25' });
    assert.deepEqual(checkValue(n, '1e-3'), { ok: true, value: '1e-3' });
    for (const bad of ['Infinity', 'NaN', '1/2', '0.5;', '2', '-0.1', '.', '1e'])
      assert.equal(checkValue(n, bad).ok, false, bad);
  });

  it('dates: real calendar dates YYYYMMDD, within the range', () => {
    assert.ok(isCalendarDate('20240229'));
    assert.ok(!isCalendarDate('20230229'));
    assert.ok(!isCalendarDate('20241301'));
    assert.ok(!isCalendarDate('20240431'));
    assert.ok(!isCalendarDate('20240100'));
    const d = p({ type: 'date', min: '20200101', max: '20251231' });
    assert.deepEqual(checkValue(d, '20220729'), { ok: true, value: '20220729' });
    for (const bad of [
      '2022-07-29',
      '220729',
      '20220732',
      '20190101',
      '20260101',
      '2022072a',
      '20220729; ls',
    ])
      assert.equal(checkValue(d, bad).ok, false, bad);
    assert.match((checkValue(d, '20230229') as { message: string }).message, /not a calendar date/);
  });

  it('choices: only listed values', () => {
    const c = p({ type: 'choice', choices: ['tpe', 'random'] });
    assert.deepEqual(checkValue(c, 'tpe'), { ok: true, value: 'tpe' });
    assert.match((checkValue(c, 'tpe;ls') as { message: string }).message, /one of: tpe, random/);
    assert.equal(checkValue(c, 'TPE').ok, false);
  });

  it('strings: anything printable (it will be quoted), no control characters, optional pattern', () => {
    const s = p({ type: 'string' });
    assert.deepEqual(checkValue(s, `a'b"c$(d)\`e\`;f&&g|h*`), {
      ok: true,
      value: `a'b"c$(d)\`e\`;f&&g|h*`,
    });
    for (const bad of ['a\nb', 'a\rb', 'a\tb', 'a\u0000b', 'a\u001bb', '\u007f'])
      assert.equal(checkValue(s, bad).ok, false, JSON.stringify(bad));
    assert.equal(checkValue(p({ type: 'string', pattern: '^[a-z]+$' }), 'abc1').ok, false);
    assert.equal(checkValue(s, 'x'.repeat(300)).ok, false);
  });

  it('order constraints: end not before start, max not below min', () => {
    const r = checkValues(SCHEMA, { ...VALUES, end: '20220101', max: '99' });
    assert.match(r.errors.end, /must not be below start/);
    assert.match(r.errors.max, /must not be below min/);
    assert.deepEqual(checkValues(SCHEMA, VALUES).errors, { lr: 'lr is required' });
  });

  it('reads a parameter schema from settings and reports what is unusable', () => {
    const { params, problems } = normalizeParams([
      { name: 'jobs', type: 'int', min: 1, default: 10 },
      { name: 'bad name', type: 'int' },
      { name: 'c', type: 'choice' },
      { name: 'd', type: 'date', min: '20230230' },
      { name: 'e', type: 'float' },
      { name: 'f', type: 'string', pattern: '(' },
      { name: 'jobs', type: 'int' },
      { name: 'g', type: 'int', atLeast: 'nope' },
      'x',
    ]);
    assert.deepEqual(
      params.map((x) => x.name),
      ['jobs', 'g'],
    );
    assert.equal(problems.length, 8, problems.join('\n'));
  });
});

describe('runs: command template', () => {
  it('fills the default template with the example flags', () => {
    const { command } = buildCommand(DEFAULT_TEMPLATE, SCHEMA, VALUES);
    assert.equal(
      command,
      './run_optimizer.sh -m continuous --method tpe --strategy multistage --start 20220729 --end 20240607 --min 100 --max 150 --jobs 10 --trials 200 --hold 5 --factors 3',
    );
  });

  it('uses only the parameters the template names, plus an implicit {study}', () => {
    const t = parseTemplate('opt --jobs {jobs} --study {study} --jobs-again {jobs}');
    assert.deepEqual(t.names, ['jobs', 'study']);
    assert.deepEqual(
      templateParams(t, SCHEMA).map((x) => x.name),
      ['jobs', 'study'],
    );
    assert.throws(
      () => templateParams(parseTemplate('opt {nope}'), SCHEMA),
      /\{nope\} is not declared/,
    );
  });

  it('keeps shell syntax of the template itself: ${VAR}, quotes, escapes', () => {
    const t = parseTemplate(
      `cd "\${HOME}" && ./x --a '{not a placeholder}' --b {jobs} \\{jobs} \${x}`,
    );
    assert.deepEqual(t.names, ['jobs']);
    assert.equal(
      fillTemplate(t, { jobs: '3' }),
      `cd "\${HOME}" && ./x --a '{not a placeholder}' --b 3 \\{jobs} \${x}`,
    );
  });

  it('rejects placeholders inside quotes (a value there could run code) and unterminated quotes', () => {
    assert.throws(() => parseTemplate('./x --s "{study}"'), /inside double quotes/);
    assert.throws(() => parseTemplate("./x --s 'a {study}'"), TemplateError);
    assert.throws(() => parseTemplate('./x "abc'), /unterminated double quote/);
    assert.throws(() => parseTemplate('   '), /empty/);
  });

  it('builds nothing from invalid values and says why', () => {
    assert.throws(
      () =>
        buildCommand(DEFAULT_TEMPLATE, SCHEMA, {
          ...VALUES,
          jobs: '10; touch x',
          start: '20230229',
        }),
      (e: Error) =>
        /jobs must be a whole number/.test(e.message) && /not a calendar date/.test(e.message),
    );
  });

  it('labels runs from their values, as plain text', () => {
    assert.equal(runLabel('{method} {strategy}', VALUES), 'tpe multistage');
    assert.equal(runLabel('{method}\n{nope}', VALUES), 'tpe');
    assert.equal(runLabel('{nope}', VALUES), 'run');
  });
});

describe('runs: hostile values are never executed (real /bin/bash and /bin/sh)', function () {
  this.timeout(30_000);
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'osm-inject-'));
    // Files a glob would expand to, if anything were left unquoted.
    fs.writeFileSync(path.join(dir, 'a-file'), '');
    fs.writeFileSync(path.join(dir, 'b-file'), '');
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  for (const shell of ['/bin/bash', '/bin/sh']) {
    it(`${shell}: every value arrives as exactly one argument, verbatim, and the canary is never created`, async () => {
      const canary = path.join(dir, 'CANARY');
      const schema: ParamSpec[] = [
        { name: 'study', type: 'string' },
        { name: 'other', type: 'string' },
      ];
      for (const value of HOSTILE(canary)) {
        const check = checkValue(schema[0], value);
        assert.ok(check.ok, `${JSON.stringify(value)} should be accepted and quoted`);
        const { command } = buildCommand(`printf '<%s>\\n' {study} {other}`, schema, {
          study: value,
          other: 'second',
        });
        const r = await bash(shell, command, dir);
        assert.equal(r.code, 0, command);
        assert.equal(r.stdout, `<${value.trim()}>\n<second>\n`, `${shell} -c ${command}`);
        assert.ok(!fs.existsSync(canary), `canary created by ${JSON.stringify(value)}`);
      }
    });
  }

  it('values with line breaks are rejected before any shell sees them', () => {
    for (const v of ['x\ntouch CANARY', 'x\r\ntouch CANARY', 'x\u0000y'])
      assert.equal(checkValue({ name: 's', type: 'string' }, v).ok, false);
  });

  it('typed numbers, dates and choices with shell syntax are rejected', () => {
    const canary = path.join(dir, 'CANARY');
    for (const p of SCHEMA.filter((x) => x.type !== 'string')) {
      for (const v of HOSTILE(canary))
        assert.equal(checkValue(p, v).ok, false, `${p.name} accepted ${JSON.stringify(v)}`);
    }
  });
});

describe('runs: run script', function () {
  this.timeout(20_000);
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'osm-runner-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  function start(
    command: string,
    extra: Partial<Parameters<typeof runScript>[0]> = {},
  ): { files: ReturnType<typeof runFiles>; done: Promise<number>; pid: number } {
    const files = runFiles(dir);
    fs.writeFileSync(
      files.script,
      runScript({ files, label: 'test #1', command, cwd: dir, ...extra }),
    );
    const child = spawn('/bin/bash', [files.script], { detached: true, stdio: 'ignore' });
    return {
      files,
      pid: child.pid!,
      done: new Promise((r) => child.on('exit', (code) => r(code ?? -1))),
    };
  }

  it('records the exit status and the pid', async () => {
    const r = start('sh -c "exit 3"');
    assert.equal(await r.done, 3);
    assert.equal(fs.readFileSync(r.files.status, 'utf8').trim(), '3');
    assert.equal(Number(fs.readFileSync(r.files.pid, 'utf8')), r.pid);
  });

  it('exports non-secret variables and runs in the working directory', async () => {
    const r = start(`printf '%s|%s' "$OPTUNA_STORAGE_REDIS_PREFIX" "$PWD" > out`, {
      exports: { OPTUNA_STORAGE_REDIS_PREFIX: "a b'c" },
    });
    assert.equal(await r.done, 0);
    assert.equal(fs.readFileSync(path.join(dir, 'out'), 'utf8'), `a b'c|${dir}`);
  });

  it('puts the Python companion first on PYTHONPATH, keeping what the run inherits', async () => {
    const companion = path.join(dir, "comp'anion dir");
    const r = start(`printf '%s' "$PYTHONPATH" > out`, { pythonPath: companion });
    assert.equal(await r.done, 0);
    const inherited = process.env.PYTHONPATH;
    assert.equal(
      fs.readFileSync(path.join(dir, 'out'), 'utf8'),
      inherited ? `${companion}:${inherited}` : companion,
    );
  });

  it('Ctrl-C (SIGINT to the process group) stops the command, and the status 130 is still recorded', async () => {
    const r = start('sleep 30');
    await new Promise((res) => setTimeout(res, 300));
    process.kill(-r.pid, 'SIGINT');
    assert.equal(await r.done, 130);
    assert.equal(fs.readFileSync(r.files.status, 'utf8').trim(), '130');
  });

  it('a hangup (its terminal closed) ends the script and then the command: nothing keeps running', async () => {
    const files = runFiles(dir);
    const command = `sh -c 'echo $$ > child.pid; exec sleep 30'`;
    fs.writeFileSync(
      files.script,
      runScript({ files, label: 'test #1', command, cwd: dir, keepShell: true }),
    );
    // The script as a terminal runs it: session leader on a pty; then the pty master closes.
    const py = [
      'import os, pty, select, sys, time',
      'pid, fd = pty.fork()',
      'if pid == 0:',
      '    os.execv("/bin/bash", ["/bin/bash", sys.argv[1]])',
      'deadline = time.time() + 10',
      'while not os.path.exists(sys.argv[2]) and time.time() < deadline:',
      '    if select.select([fd], [], [], 0.05)[0]:',
      '        try: os.read(fd, 4096)',
      '        except OSError: break',
      'time.sleep(0.2)',
      'os.close(fd)',
      'os.waitpid(pid, 0)',
    ].join('\n');
    await new Promise<void>((resolve, reject) =>
      execFile(
        '/usr/bin/python3',
        ['-c', py, files.script, path.join(dir, 'child.pid')],
        { timeout: 15_000 },
        (e) => (e ? reject(e) : resolve()),
      ),
    );
    const child = Number(fs.readFileSync(path.join(dir, 'child.pid'), 'utf8'));
    const deadline = Date.now() + 3000;
    while (Date.now() < deadline && processAlive(child))
      await new Promise((r) => setTimeout(r, 50));
    assert.throws(() => process.kill(child, 0), /ESRCH/, 'the command got the hangup');
    assert.ok(
      !fs.existsSync(files.status),
      'no status: the run manager reports it as ended with its terminal',
    );
  });

  it('tmux launcher and session names: no password and no unquoted path on any command line', () => {
    const files = runFiles('/tmp/runs dir/x');
    const text = tmuxLauncher({
      files,
      session: tmuxSessionName("tpe multistage: it's", 3, 'ab12cd'),
      socket: 'sock',
      cwd: '/w s',
    });
    assert.match(
      text,
      /tmux -L sock new-session -d -s optuna-tpe-multistage-it-s-3-ab12cd -c '\/w s' '\/bin\/bash '\\''\/tmp\/runs dir\/x\/run.sh'\\'''/,
    );
    assert.match(text, /printf '%s\\0' "\$osm_pw" >&3/);
    assert.ok(!/OPTUNA_STORAGE_REDIS_PASSWORD=/.test(text));
    assert.equal(tmuxSessionName('', 1, 'x'), 'optuna-run-1-x');
  });
});

describe('runs: profiles and the staged ramp', () => {
  it('has the built-in ramp 10/200, 15/500, 25/1000, 30/2000', () => {
    const { profiles } = normalizeProfiles([]);
    assert.deepEqual(
      profiles.find((p) => p.name === 'Staged ramp')!.stages!.map((s) => [s.jobs, s.trials]),
      [
        ['10', '200'],
        ['15', '500'],
        ['25', '1000'],
        ['30', '2000'],
      ],
    );
  });

  it('user profiles come first, numbers become strings, a same-named profile replaces the ramp', () => {
    const { profiles, problems } = normalizeProfiles([
      { name: 'quick', values: { jobs: 2, trials: 12 } },
      { name: 'Staged ramp', stages: [{ jobs: 1 }] },
      { values: {} },
    ]);
    assert.deepEqual(
      profiles.map((p) => p.name),
      ['quick', 'Staged ramp', 'run_optimizer.sh (guide)'],
    );
    assert.deepEqual(profiles[0].values, { jobs: '2', trials: '12' });
    assert.equal(profiles[1].stages!.length, 1);
    assert.equal(problems.length, 1);
  });

  it("ships the guide's run_optimizer.sh flags as a ramp profile with its own command", () => {
    const guide = normalizeProfiles([]).profiles.find(
      (p) => p.name === 'run_optimizer.sh (guide)',
    )!;
    const cmd = commandOf(guide, { template: 'python3 x.py', params: [], nameTemplate: 'x' });
    assert.equal(cmd.template, GUIDE_TEMPLATE);
    assert.deepEqual(
      cmd.params.map((p) => p.name),
      [
        'mode',
        'method',
        'strategy',
        'start',
        'end',
        'min',
        'max',
        'jobs',
        'trials',
        'hold',
        'factors',
      ],
    );
    assert.equal(cmd.nameTemplate, '{method} {strategy}');
    assert.deepEqual(guide.stages, STAGED_RAMP.stages);
    // A profile without a command of its own runs the settings' one.
    const quick = normalizeProfiles([{ name: 'q', values: { trials: 3 } }]).profiles[0];
    assert.equal(commandOf(quick, cmd).template, GUIDE_TEMPLATE);
    // A user profile may bring its own command; bad parameters are reported, not half-applied.
    const own = normalizeProfiles([
      {
        name: 'mine',
        commandTemplate: 'python3 train.py --lr {lr}',
        parameters: [{ name: 'lr', type: 'number', default: 0.1 }, { type: 'int' }],
      },
    ]);
    assert.equal(own.profiles[0].command?.template, 'python3 train.py --lr {lr}');
    assert.deepEqual(
      own.profiles[0].command?.params.map((p) => p.name),
      ['lr'],
    );
    assert.equal(own.problems.length, 1);
    assert.match(own.problems[0], /^profile "mine": /);
  });

  it('finds the stage of a run and the values of the next one', () => {
    assert.equal(stageOf(STAGED_RAMP, { jobs: '15', trials: '500', method: 'tpe' }), 1);
    assert.equal(stageOf(STAGED_RAMP, { jobs: '15', trials: '501' }), undefined);
    assert.equal(stageOf(STAGED_RAMP, {}, 2), 2);
    assert.deepEqual(nextStageValues(STAGED_RAMP, { ...VALUES }, 0), {
      stage: 1,
      values: { ...VALUES, jobs: '15', trials: '500' },
    });
    assert.equal(nextStageValues(STAGED_RAMP, VALUES, 3), undefined);
    // A run at no stage goes to the first stage that is not below it anywhere.
    assert.equal(nextStageValues(STAGED_RAMP, { jobs: '10', trials: '300' }, undefined)?.stage, 1);
    assert.equal(nextStageValues(STAGED_RAMP, { jobs: '2', trials: '12' }, undefined)?.stage, 0);
    assert.equal(nextStageValues(STAGED_RAMP, { jobs: '2', trials: '2000' }, undefined)?.stage, 3);
    assert.equal(nextStageValues(STAGED_RAMP, { jobs: '2', trials: '5000' }, undefined), undefined);
    assert.deepEqual(profileValues(STAGED_RAMP, 3), { jobs: '30', trials: '2000' });
  });
});

describe('runs: progress', () => {
  const trial = (number: number, state: Trial['state'], value?: number): Trial => ({
    trialId: number,
    number,
    studyId: 0,
    state,
    values: value === undefined ? null : [value],
    params: {},
    distributions: {},
    intermediateValues: {},
    userAttrs: {},
    systemAttrs: {},
    datetimeStart: null,
    datetimeComplete: null,
  });

  it("counts only the run's trials (numbered from the baseline), rate, ETA, best", () => {
    const trials = [
      trial(0, 'COMPLETE', -5),
      trial(1, 'COMPLETE', 3),
      trial(2, 'COMPLETE', 1),
      trial(3, 'FAIL'),
      trial(4, 'PRUNED'),
      trial(5, 'RUNNING'),
    ];
    const p = computeProgress({
      directions: ['MINIMIZE'],
      trials,
      baseline: 1,
      startedAt: 0,
      until: 120_000,
      planned: 10,
    });
    assert.equal(p.finished, 4);
    assert.equal(p.failed, 1);
    assert.equal(p.running, 1);
    assert.equal(p.best, 1);
    assert.equal(p.bestTrial, 2);
    assert.equal(p.studyBest, -5);
    assert.equal(p.perMinute, 2);
    assert.equal(p.etaMs, 3 * 60_000);
  });

  it('detects the study of an unnamed run: a new one first, else the one that grew most', () => {
    assert.equal(
      detectStudy(
        [
          { name: 'a', trials: 5 },
          { name: 'b', trials: 1 },
        ],
        { a: 5 },
      )?.name,
      'b',
    );
    assert.equal(
      detectStudy(
        [
          { name: 'a', trials: 9 },
          { name: 'b', trials: 30 },
        ],
        { a: 5, b: 29 },
      )?.name,
      'a',
    );
    assert.equal(detectStudy([{ name: 'a', trials: 5 }], { a: 5 }), undefined);
  });
});
