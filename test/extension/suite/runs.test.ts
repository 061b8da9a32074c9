// Optimizer runs inside a real VS Code extension host: the launch form (its QuickPick and
// InputBox widgets replaced by a scripted user), a REAL optimizer (test/fixtures/
// fake_optimizer.py: real Optuna on a real password-protected redis-server) in a real terminal
// and in tmux, progress in the Runs and Studies views and the status bar, exit codes, Stop,
// next ramp stage, relaunch, re-attach, history, and hostile values that must not execute.
import * as assert from 'assert';
import { execFileSync } from 'child_process';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as vscode from 'vscode';
import type { ExtensionApi } from '../../../src/extension';
import {
  DEFAULT_PARAMETERS,
  DEFAULT_TEMPLATE,
  GUIDE_NAME_TEMPLATE,
  GUIDE_PARAMETERS,
  GUIDE_TEMPLATE,
} from '../../../src/core/runs/defaults';
import { REVIEW_PLACEHOLDER } from '../../../src/vscode/runs/launchForm';
import type { RunRecord } from '../../../src/core/runs/record';
import { shellQuote } from '../../../src/core/runs/shell';
import type { RunsApi } from '../../../src/vscode/runs/register';
import type { RunNode } from '../../../src/vscode/runs/runsProvider';
import type { Node } from '../../../src/vscode/views/nodes';
import { processAlive } from '../../../src/core/processAlive';
import { FIXTURES, PYTHON } from '../../helpers/python';
import { RedisServer } from '../../helpers/redisServer';
import { until } from '../../helpers/waitFor';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const manifest = require('../../../package.json') as { publisher: string; name: string };
const PREFIX = 'runs-test';
// Shell syntax in the password too: it travels in the environment (and a FIFO for tmux) only.
const PASSWORD = `pw 'q' "dq" $(touch /tmp/osm-pw-canary) ;&|`;
const TMUX_SOCKET = `osm-runs-test-${process.pid}`;

/** How long a wait in this file may take unless a call says otherwise. */
const WAIT_MS = 20_000;

function tmux(...args: string[]): { ok: boolean; out: string } {
  try {
    return {
      ok: true,
      out: execFileSync('tmux', ['-L', TMUX_SOCKET, ...args], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    };
  } catch {
    return { ok: false, out: '' };
  }
}

/** What the scripted user saw at one step. */
interface Seen {
  kind: 'pick' | 'input';
  title?: string;
  step?: number;
  totalSteps?: number;
  placeholder?: string;
  prompt?: string;
  value: string;
  validationMessage?: string;
  items: string[];
  back: boolean;
}
type Answer = { pick: string | RegExp } | { type: string } | 'back' | 'cancel';

/**
 * Replaces window.createQuickPick/createInputBox with widgets driven by `answer`: each shown
 * step is answered (pick an item, type a value, Back, or cancel). A typed value that the form
 * rejects leaves the step open, so `answer` is asked again, now with the validation message.
 */
function scriptedUser(answer: (s: Seen, all: Seen[]) => Answer): {
  seen: Seen[];
  errors: string[];
  restore(): void;
} {
  const w = vscode.window as unknown as Record<string, unknown>;
  const original = { qp: w.createQuickPick, ib: w.createInputBox };
  const seen: Seen[] = [];
  const errors: string[] = [];
  const make = (kind: 'pick' | 'input') => () => {
    const accept = new vscode.EventEmitter<void>();
    const hide = new vscode.EventEmitter<void>();
    const button = new vscode.EventEmitter<vscode.QuickInputButton>();
    const change = new vscode.EventEmitter<string>();
    const none = new vscode.EventEmitter<unknown>().event;
    let disposed = false;
    const widget = {
      title: undefined as string | undefined,
      step: undefined as number | undefined,
      totalSteps: undefined as number | undefined,
      placeholder: undefined as string | undefined,
      prompt: undefined as string | undefined,
      value: '',
      validationMessage: undefined as string | undefined,
      items: [] as vscode.QuickPickItem[],
      activeItems: [] as vscode.QuickPickItem[],
      selectedItems: [] as vscode.QuickPickItem[],
      buttons: [] as vscode.QuickInputButton[],
      ignoreFocusOut: false,
      matchOnDescription: false,
      onDidAccept: accept.event,
      onDidHide: hide.event,
      onDidTriggerButton: button.event,
      onDidChangeValue: change.event,
      onDidChangeSelection: none,
      onDidChangeActive: none,
      show: () => setTimeout(drive, 0),
      hide: () => hide.fire(),
      dispose: () => (disposed = true),
    };
    const drive = () => {
      if (disposed) return;
      const s: Seen = {
        kind,
        title: widget.title,
        step: widget.step,
        totalSteps: widget.totalSteps,
        placeholder: widget.placeholder,
        prompt: widget.prompt,
        value: widget.value,
        validationMessage: widget.validationMessage,
        items: widget.items.map((i) => i.label),
        back: widget.buttons.includes(vscode.QuickInputButtons.Back),
      };
      seen.push(s);
      let a: Answer;
      try {
        a = answer(s, seen);
      } catch (e) {
        errors.push(String(e));
        a = 'cancel';
      }
      if (a === 'back') return button.fire(vscode.QuickInputButtons.Back);
      if (a === 'cancel') return hide.fire();
      if ('pick' in a) {
        const want = a.pick;
        const item = widget.items.find((i) =>
          typeof want === 'string'
            ? i.label === want || i.label.endsWith(` ${want}`)
            : want.test(i.label),
        );
        if (!item) {
          errors.push(`no item ${want} in ${JSON.stringify(s.items)} at ${s.placeholder}`);
          return hide.fire();
        }
        widget.selectedItems = [item];
        return accept.fire();
      }
      widget.value = a.type;
      change.fire(a.type);
      accept.fire();
      setTimeout(drive, 0); // still open when the value was rejected
    };
    return widget;
  };
  w.createQuickPick = make('pick');
  w.createInputBox = make('input');
  return {
    seen,
    errors,
    restore: () => ((w.createQuickPick = original.qp), (w.createInputBox = original.ib)),
  };
}

/** Which parameter an input step asks for (its prompt starts with the name). */
const paramOf = (s: Seen) => /^([A-Za-z_]\w*)/.exec(s.prompt ?? '')?.[1];

/**
 * A user who answers the form: picks the profile, then on the review picks each value of
 * `typed` (and method, study, tmux when they differ from what is shown) to change it, types
 * the values (a list: each but the last must be rejected), and finally picks Launch. A value
 * the form asks for before the review (nothing provides it) is typed the same way.
 */
function formUser(o: {
  profile: string | RegExp;
  typed?: Record<string, string | string[]>;
  method?: string;
  tmux: boolean;
  study?: string | RegExp;
  onStep?: (s: Seen, all: Seen[]) => Answer | undefined;
}) {
  const attempts = new Map<string, number>();
  const done = new Set<string>();
  const row = (s: Seen, prefix: string) => s.items.find((i) => i.startsWith(prefix));
  return (s: Seen, all: Seen[]): Answer => {
    const custom = o.onStep?.(s, all);
    if (custom) return custom;
    const ph = s.placeholder ?? '';
    if (s.kind === 'pick') {
      if (ph.startsWith('Start from which values')) return { pick: o.profile };
      if (ph === REVIEW_PLACEHOLDER) {
        const todo = Object.keys(o.typed ?? {}).find((n) => !done.has(n));
        if (todo) return { pick: new RegExp(`^\\$\\(edit\\) ${todo}:`) };
        if (o.method && !row(s, `$(edit) method: ${o.method}`))
          return { pick: /^\$\(edit\) method:/ };
        const tmuxRow = row(s, '$(terminal) runs in:');
        if (tmuxRow && /tmux/.test(tmuxRow) !== o.tmux) return { pick: /^\$\(terminal\) runs in:/ };
        if (o.study && !done.has('\0study')) {
          done.add('\0study');
          return { pick: /^\$\(beaker\) study:/ };
        }
        return { pick: /Launch/ };
      }
      if (ph.startsWith('method')) return { pick: o.method ?? 'tpe' };
      if (ph.startsWith('Which study')) return { pick: o.study ?? /Detect automatically/ };
      if (ph.startsWith('Where should the run live'))
        return { pick: o.tmux ? /tmux session/ : /VS Code terminal/ };
      throw new Error(`unexpected pick step ${ph}: ${s.items.join(' | ')}`);
    }
    const name = paramOf(s)!;
    const want = o.typed?.[name];
    if (want === undefined) return { type: s.value };
    const list = Array.isArray(want) ? want : [want];
    const i = attempts.get(name) ?? 0;
    attempts.set(name, i + 1);
    if (i >= list.length - 1) done.add(name);
    return { type: list[Math.min(i, list.length - 1)] };
  };
}

if (vscode.workspace.isTrusted) {
  describe('Optimizer runs: launch, watch, stop (real terminal, tmux, Optuna, Redis)', function () {
    this.timeout(60_000);
    let api: ExtensionApi & { runs: RunsApi };
    let redis: RedisServer;
    let out: string;
    const cfg = () => vscode.workspace.getConfiguration('optunaStorage');
    const G = vscode.ConfigurationTarget.Global;
    const keys = [
      'redis.url',
      'redis.prefixes',
      'sqlite.path',
      'refreshInterval',
      'runs.commandTemplate',
      'runs.nameTemplate',
      'runs.parameters',
      'runs.profiles',
      'runs.stopGracePeriod',
      'runs.tmuxSocketName',
      'runs.useTmux',
    ];
    const fixture = `${shellQuote(PYTHON)} ${shellQuote(path.join(FIXTURES, 'fake_optimizer.py'))}`;
    const flags = GUIDE_TEMPLATE.replace(/^\.\/run_optimizer\.sh /, '');
    const TEMPLATE = `${fixture} ${flags} --study {study} --out {out}`;
    const manager = () => api.runs.manager;
    const runNode = (run: RunRecord): RunNode =>
      api.runs.provider.getChildren().find((n) => n.kind === 'run' && n.run.id === run.id)!;
    const detail = (run: RunRecord, label: string) => {
      const d = api.runs.provider
        .getChildren(runNode(run))
        .find((n) => n.kind === 'detail' && n.label === label);
      return d?.kind === 'detail' ? d.description : undefined;
    };
    const fixtureFile = (study: string, ext: string) =>
      path.join(out, `${createHash('sha1').update(study).digest('hex')}.${ext}`);
    const fixtureInfo = (study: string) =>
      JSON.parse(fs.readFileSync(fixtureFile(study, 'json'), 'utf8'));
    const fixturePid = (study: string) =>
      Number(fs.readFileSync(fixtureFile(study, 'pid'), 'utf8'));
    const launched: RunRecord[] = [];

    async function launchWith(
      user: ReturnType<typeof formUser>,
    ): Promise<{ run: RunRecord | undefined; seen: Seen[] }> {
      const ui = scriptedUser(user);
      try {
        const run = await vscode.commands.executeCommand<RunRecord | undefined>(
          'optunaStorage.runs.launch',
        );
        assert.deepStrictEqual(ui.errors, []);
        if (run) launched.push(run);
        return { run, seen: ui.seen };
      } finally {
        ui.restore();
      }
    }

    before(async () => {
      out = fs.mkdtempSync(path.join(os.tmpdir(), 'osm-runs-'));
      redis = await RedisServer.start({ password: PASSWORD });
      api = (await vscode.extensions
        .getExtension<ExtensionApi>(`${manifest.publisher}.${manifest.name}`)!
        .activate()) as ExtensionApi & { runs: RunsApi };
      await api.passwords.set(redis.url, PASSWORD);
      const params = GUIDE_PARAMETERS.map((p) =>
        p.name === 'method' ? { ...p, choices: ['tpe', 'random'] } : p,
      );
      await cfg().update(
        'runs.parameters',
        [
          ...params,
          {
            name: 'out',
            type: 'string',
            default: out,
            description: 'where the fixture writes its pid',
          },
        ],
        G,
      );
      await cfg().update('runs.commandTemplate', TEMPLATE, G);
      await cfg().update('runs.nameTemplate', GUIDE_NAME_TEMPLATE, G);
      await cfg().update(
        'runs.profiles',
        [{ name: 'quick', values: { jobs: 2, trials: 12, hold: 10 } }],
        G,
      );
      await cfg().update('runs.stopGracePeriod', 5, G);
      await cfg().update('runs.tmuxSocketName', TMUX_SOCKET, G);
      await cfg().update('refreshInterval', 1, G);
      await cfg().update('sqlite.path', undefined, G);
      await cfg().update('redis.prefixes', [PREFIX], G);
      await cfg().update('redis.url', redis.url, G);
      await until(
        () => api.store.loaded && api.store.state.state === 'redis',
        WAIT_MS,
        `the store to connect (${api.store.state.detail})`,
      );
    });

    after(async () => {
      for (const r of launched)
        if (manager().get(r.id)?.state === 'running') await manager().stop(manager().get(r.id)!);
      for (const t of vscode.window.terminals) if (t.name.startsWith('Optuna run: ')) t.dispose();
      tmux('kill-server');
      // kill-server leaves the socket file behind.
      fs.rmSync(
        path.join(
          process.env.TMUX_TMPDIR ?? '/tmp',
          `tmux-${process.getuid?.() ?? 0}`,
          TMUX_SOCKET,
        ),
        { force: true },
      );
      for (const k of keys) await cfg().update(k, undefined, G);
      await redis?.dispose();
      if (out) fs.rmSync(out, { recursive: true, force: true });
    });

    it("declares the generic default template and ships the guide's flags as a profile", () => {
      assert.strictEqual(cfg().inspect('runs.commandTemplate')!.defaultValue, DEFAULT_TEMPLATE);
      assert.deepStrictEqual(cfg().inspect('runs.parameters')!.defaultValue, DEFAULT_PARAMETERS);
      assert.strictEqual(DEFAULT_TEMPLATE, 'python3 {script} --n-trials {trials}');
      assert.match(
        GUIDE_TEMPLATE,
        /^\.\/run_optimizer\.sh -m \{mode\} --method \{method\} --strategy \{strategy\} --start \{start\} --end \{end\} --min \{min\} --max \{max\} --jobs \{jobs\} --trials \{trials\} --hold \{hold\} --factors \{factors\}$/,
      );
    });

    let first: RunRecord;
    it('launches through the short form (profile, then one review; validation, Back) in a terminal named after the run, and finishes with exit code 0', async () => {
      const study = 'ramp-study';
      let wentBack = false;
      const { run, seen } = await launchWith(
        formUser({
          profile: /Staged ramp: stage 1 of 4/,
          typed: {
            study,
            trials: ['12; touch CANARY', '1e3', '12'],
            start: ['20230229', '2022-07-29', '20220729'],
            end: ['20220101', '20240607'],
            hold: '20',
          },
          tmux: false,
          onStep: (s) => {
            // Back from editing "hold": the review again, the value unchanged.
            if (paramOf(s) === 'hold' && !wentBack) {
              wentBack = true;
              return 'back';
            }
            return undefined;
          },
        }),
      );
      assert.ok(run, 'a run was launched');
      first = run;
      // Form shape: step 1 of 2 picks the values' origin, step 2 of 2 reviews them; only the
      // value nothing provides (study) is asked before the review, the rest only when picked.
      assert.ok(seen.every((s) => s.title === 'Launch optimizer run' && s.totalSteps === 2));
      assert.deepStrictEqual([seen[0].step, seen[0].back], [1, false]);
      assert.ok(seen.slice(1).every((s) => s.step === 2 && s.back));
      assert.strictEqual(paramOf(seen[1]), 'study', 'the missing study is asked right away');
      const reviews = seen.filter((s) => s.placeholder === REVIEW_PLACEHOLDER);
      assert.ok(
        reviews[0].items.includes('$(edit) jobs: 10') &&
          reviews[0].items.includes('$(edit) method: tpe') &&
          reviews[0].items.some((i) => i.startsWith('$(edit) factors: ')),
        `every value is on the review: ${reviews[0].items.join(' | ')}`,
      );
      const asked = new Set(seen.filter((s) => s.kind === 'input').map(paramOf));
      assert.deepStrictEqual([...asked].sort(), ['end', 'hold', 'start', 'study', 'trials']);
      const afterBack = seen[seen.findIndex((s) => paramOf(s) === 'hold') + 1];
      assert.strictEqual(afterBack.placeholder, REVIEW_PLACEHOLDER, 'Back returns to the review');
      assert.ok(afterBack.items.includes('$(edit) hold: 5'), 'with the value unchanged');
      const messages = seen
        .filter((s) => s.validationMessage)
        .map((s) => `${paramOf(s)}: ${s.validationMessage}`);
      assert.ok(
        messages.some((m) => /^trials: trials must be a whole number/.test(m)),
        messages.join('\n'),
      );
      assert.ok(
        messages.some((m) => /^start: .*20230229 is not a calendar date/.test(m)),
        messages.join('\n'),
      );
      assert.ok(
        messages.some((m) => /^start: start must be a date written YYYYMMDD/.test(m)),
        messages.join('\n'),
      );
      assert.ok(
        messages.some((m) => /^end: end \(20220101\) must not be below start \(20220729\)/.test(m)),
        messages.join('\n'),
      );
      assert.match(seen[seen.length - 1].items[0], /Launch tpe multistage/);
      assert.ok(
        !fs.existsSync(
          path.join(vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? out, 'CANARY'),
        ),
      );

      // The parameters as validated, the ramp's stage 1 jobs, the typed trials.
      assert.deepStrictEqual(
        {
          jobs: run.values.jobs,
          trials: run.values.trials,
          start: run.values.start,
          hold: run.values.hold,
          study: run.values.study,
          stage: run.stage,
          profile: run.profile,
        },
        {
          jobs: '10',
          trials: '12',
          start: '20220729',
          hold: '20',
          study,
          stage: 0,
          profile: 'Staged ramp',
        },
      );
      assert.strictEqual(
        run.command,
        `${fixture} -m continuous --method tpe --strategy multistage --start 20220729 --end 20240607 --min 100 --max 150 --jobs 10 --trials 12 --hold 20 --factors 3 --study ${study} --out ${shellQuote(out)}`,
      );
      assert.match(run.label, /^tpe multistage #\d+$/);
      const terminal = vscode.window.terminals.find((t) => t.name === `Optuna run: ${run.label}`);
      assert.ok(terminal, 'a terminal named after the run');

      await until(() => manager().get(run.id)!.state !== 'running', WAIT_MS, 'the run to exit');
      const done = manager().get(run.id)!;
      assert.strictEqual(done.state, 'exited');
      assert.strictEqual(done.exitCode, 0);
      await until(
        () => manager().get(run.id)!.progress?.finished === 12,
        WAIT_MS,
        'all 12 trials in the Runs view',
      );
      const item = api.runs.provider.getTreeItem(runNode(done));
      assert.match(String(item.description), /^done · 12\/12 · [\d.]+\/min · best [\d.e-]+$/);
      assert.strictEqual(item.contextValue, 'run.exited.ramp');
      assert.strictEqual(detail(done, 'Status'), 'exited with code 0');
      assert.match(detail(done, 'Progress')!, /^12\/12 trials finished \(100%\)/);
      assert.match(
        detail(done, 'Study')!,
        new RegExp(`^${study} · prefix "${PREFIX}" · from the study parameter`),
      );
      assert.match(detail(done, 'Failures')!, /^0 failed · 0 pruned · 12 complete$/);
      assert.ok(Number.isFinite(done.progress!.best));
    });

    it('passes the storage settings as environment variables: the password only there, never on a command line or on disk', async () => {
      const info = fixtureInfo('ramp-study');
      assert.strictEqual(info.url, redis.url);
      assert.ok(!info.url.includes('pw'));
      assert.strictEqual(info.prefix, PREFIX);
      assert.strictEqual(
        info.password,
        'set',
        'the fixture authenticated with the password from SecretStorage',
      );
      assert.strictEqual(
        info.cwd,
        vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? os.homedir(),
      );
      assert.deepStrictEqual(info.argv.slice(0, 4), ['-m', 'continuous', '--method', 'tpe']);
      // The Python companion is importable in the run, from the extension's own folder.
      const companion = path.join(api.context.extensionPath, 'python');
      assert.strictEqual(info.pythonpath.split(':')[0], companion);
      assert.strictEqual(
        info.companion,
        path.join(companion, 'enhanced_redis_storage', '__init__.py'),
      );
      assert.ok(!fs.existsSync('/tmp/osm-pw-canary'), 'the password was never run as shell code');
      const onDisk = [first.dir, ...fs.readdirSync(first.dir).map((f) => path.join(first.dir, f))]
        .filter((f) => fs.statSync(f).isFile())
        .map((f) => fs.readFileSync(f, 'utf8'));
      assert.ok(
        onDisk.length >= 3 && onDisk.every((t) => !t.includes(PASSWORD)),
        'run files hold no password',
      );
      assert.ok(
        !JSON.stringify(api.context.workspaceState.get('optunaStorage.runs.history')).includes(
          PASSWORD,
        ),
        'history holds no password',
      );
      assert.ok(!first.command.includes(PASSWORD));
    });

    it("shows the run's trials in the Studies view too", async () => {
      await vscode.commands.executeCommand('optunaStorage.refresh');
      const server = (api.studies.getChildren() as Node[]).find((n) => n.kind === 'server')!;
      const prefix = (api.studies.getChildren(server) as Node[]).find(
        (n) => n.kind === 'prefix' && n.prefix === PREFIX,
      )!;
      const study = (api.studies.getChildren(prefix) as Node[]).find(
        (n) => n.kind === 'study' && n.study.name === 'ramp-study',
      );
      assert.ok(study && study.kind === 'study');
      assert.strictEqual(study.study.trials.length, 12);
      assert.match(String(api.studies.getTreeItem(study).description), /12 trials/);
    });

    it('"next stage" relaunches at 15 jobs/500 trials; progress shows live in the view and status bar; Stop really stops the process', async () => {
      const firstPid = fixturePid('ramp-study');
      const next = await vscode.commands.executeCommand<RunRecord>(
        'optunaStorage.runs.nextStage',
        runNode(first),
      );
      launched.push(next);
      assert.deepStrictEqual(
        [next.values.jobs, next.values.trials, next.stage, next.values.study, next.values.start],
        ['15', '500', 1, 'ramp-study', '20220729'],
      );
      assert.strictEqual(next.study.baseline, 12, 'only trials after launch count');
      await until(
        () =>
          fs.existsSync(fixtureFile('ramp-study', 'pid')) && fixturePid('ramp-study') !== firstPid,
        WAIT_MS,
        'the second optimizer to start',
      );
      const pid = fixturePid('ramp-study');
      assert.ok(processAlive(pid));
      await until(
        () => (manager().get(next.id)!.progress?.finished ?? 0) >= 20,
        WAIT_MS,
        'trials of the running stage',
      );
      const live = manager().get(next.id)!;
      assert.strictEqual(live.state, 'running');
      assert.ok(live.progress!.finished < 500);
      assert.match(
        String(api.runs.provider.getTreeItem(runNode(live)).description),
        /^running · \d+\/500 · [\d.]+\/min · best /,
      );
      assert.match(api.runs.statusBar.item.text, /^\$\(rocket\) tpe \d+\/500$/);
      assert.match(detail(live, 'Status')!, /^running \(pid \d+\)$/);

      const t0 = Date.now();
      await vscode.commands.executeCommand('optunaStorage.runs.stop', runNode(live));
      const stopped = manager().get(next.id)!;
      assert.strictEqual(stopped.state, 'exited');
      assert.strictEqual(stopped.exitCode, 130, 'Ctrl-C ended it');
      assert.ok(Date.now() - t0 < 5000, 'within the grace period');
      assert.ok(!processAlive(pid), `optimizer pid ${pid} is gone`);
      assert.strictEqual(detail(stopped, 'Status'), 'stopped: exited with code 130 (interrupted)');
      assert.match(
        String(api.runs.provider.getTreeItem(runNode(stopped)).description),
        /^exit 130 · \d+\/500/,
      );
      assert.ok(stopped.progress!.finished < 500);
    });

    it('runs in tmux: the password arrives through the FIFO, the run survives its terminal, Re-attach, Stop via tmux, Remove kills the session', async () => {
      const { run } = await launchWith(
        formUser({ profile: /quick/, typed: { study: 'tmux-study', trials: '2000' }, tmux: true }),
      );
      assert.ok(run?.tmux);
      const session = run.tmux.session;
      assert.match(session, /^optuna-tpe-multistage-\d+-[0-9a-f]+$/);
      await until(
        () => fs.existsSync(fixtureFile('tmux-study', 'pid')),
        WAIT_MS,
        'the optimizer in tmux to start',
      );
      const pid = fixturePid('tmux-study');
      assert.ok(tmux('has-session', '-t', `=${session}`).ok, 'tmux session exists');
      assert.strictEqual(fixtureInfo('tmux-study').password, 'set');
      assert.ok(!fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(PASSWORD));
      assert.ok(
        fs
          .readFileSync(`/proc/${pid}/environ`, 'utf8')
          .split('\0')
          .includes(`OPTUNA_STORAGE_REDIS_PASSWORD=${PASSWORD}`),
      );
      const ps = execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' });
      assert.ok(!ps.includes(PASSWORD), 'no process has the password on its command line');
      await until(
        () => (manager().get(run.id)!.progress?.finished ?? 0) >= 3,
        WAIT_MS,
        'trials of the tmux run',
      );

      // A dropped connection: the attached terminal goes away, the run goes on.
      const attached = vscode.window.terminals.find((t) => t.name === run.terminalName)!;
      attached.dispose();
      await until(
        () => !vscode.window.terminals.includes(attached),
        WAIT_MS,
        'the terminal to close',
      );
      await new Promise((r) => setTimeout(r, 700));
      assert.ok(processAlive(pid));
      assert.strictEqual(manager().get(run.id)!.state, 'running');
      const again = await vscode.commands.executeCommand<vscode.Terminal>(
        'optunaStorage.runs.reattach',
        runNode(run),
      );
      assert.ok(
        again && vscode.window.terminals.includes(again) && again.name === run.terminalName,
      );
      assert.strictEqual(
        api.runs.provider.getTreeItem(runNode(run)).contextValue,
        'run.running.tmux.ramp',
        'next stage: 30 jobs/2000 trials',
      );

      await vscode.commands.executeCommand('optunaStorage.runs.stop', runNode(run));
      const stopped = manager().get(run.id)!;
      assert.strictEqual(stopped.exitCode, 130);
      assert.ok(!processAlive(pid), 'tmux send-keys C-c stopped the optimizer');
      assert.ok(tmux('has-session', '-t', `=${session}`).ok, 'the dead pane is kept for reading');
      await vscode.commands.executeCommand('optunaStorage.runs.remove', runNode(stopped));
      assert.ok(!tmux('has-session', '-t', `=${session}`).ok, 'Remove closed the session');
      assert.strictEqual(manager().get(run.id), undefined);
    });

    it('hostile text in a study name reaches the optimizer verbatim and runs nothing; a non-zero exit code is shown; relaunch repeats it', async () => {
      const canary = path.join(out, 'CANARY');
      const study = `inj 'q' "dq" $(touch ${canary}) \`touch ${canary}\` ; touch ${canary} && x | y * ~ $HOME`;
      await cfg().update('runs.commandTemplate', `${TEMPLATE} --exit-code 3`, G);
      try {
        const { run } = await launchWith(
          formUser({ profile: /quick/, typed: { study, trials: '3' }, tmux: false }),
        );
        assert.ok(run);
        await until(() => manager().get(run.id)!.state !== 'running', WAIT_MS, 'the run to exit');
        assert.strictEqual(manager().get(run.id)!.exitCode, 3);
        assert.strictEqual(fixtureInfo(study).study, study);
        assert.ok(!fs.existsSync(canary), 'no injected command ran');
        await until(
          () => manager().get(run.id)!.progress?.finished === 3,
          WAIT_MS,
          'the hostile-named study in the Runs view',
        );
        assert.strictEqual(detail(manager().get(run.id)!, 'Status'), 'exited with code 3');
        assert.match(
          String(api.runs.provider.getTreeItem(runNode(run)).description),
          /^exit 3 · 3\/3/,
        );

        const again = await vscode.commands.executeCommand<RunRecord>(
          'optunaStorage.runs.relaunch',
          runNode(run),
        );
        launched.push(again);
        assert.deepStrictEqual(again.values, run.values);
        assert.strictEqual(again.command, run.command);
        assert.notStrictEqual(again.seq, run.seq);
        await until(
          () => manager().get(again.id)!.state !== 'running',
          WAIT_MS,
          'the relaunch to exit',
        );
        assert.strictEqual(manager().get(again.id)!.exitCode, 3);
        assert.strictEqual(manager().get(again.id)!.study.baseline, 3);
        assert.ok(!fs.existsSync(canary));
      } finally {
        await cfg().update('runs.commandTemplate', TEMPLATE, G);
      }
    });

    it('Stop escalates after the grace period: an optimizer that ignores Ctrl-C gets SIGTERM', async () => {
      await cfg().update('runs.commandTemplate', `${TEMPLATE} --ignore-sigint`, G);
      await cfg().update('runs.stopGracePeriod', 1, G);
      try {
        const { run } = await launchWith(
          formUser({ profile: /quick/, typed: { study: 'stubborn', trials: '2000' }, tmux: false }),
        );
        assert.ok(run);
        await until(
          () => (manager().get(run.id)!.progress?.finished ?? 0) >= 2,
          WAIT_MS,
          'trials of the stubborn run',
        );
        const pid = fixturePid('stubborn');
        const t0 = Date.now();
        await vscode.commands.executeCommand('optunaStorage.runs.stop', runNode(run));
        const elapsed = Date.now() - t0;
        const r = manager().get(run.id)!;
        assert.ok(
          elapsed >= 1000 && elapsed < 4000,
          `stopped after ${elapsed} ms: the 1 s grace, then SIGTERM`,
        );
        assert.strictEqual(r.exitCode, 143);
        assert.strictEqual(detail(r, 'Status'), 'stopped: exited with code 143 (terminated)');
        assert.ok(!processAlive(pid), `optimizer pid ${pid} is gone`);
      } finally {
        await cfg().update('runs.commandTemplate', TEMPLATE, G);
        await cfg().update('runs.stopGracePeriod', 5, G);
      }
    });

    it('closing the terminal of a running run ends the optimizer too, and the view says why', async () => {
      const { run } = await launchWith(
        formUser({
          profile: /quick/,
          typed: { study: 'closed-terminal', trials: '2000' },
          tmux: false,
        }),
      );
      assert.ok(run);
      await until(
        () => (manager().get(run.id)!.progress?.finished ?? 0) >= 2,
        WAIT_MS,
        'trials of the run',
      );
      const pid = fixturePid('closed-terminal');
      vscode.window.terminals.find((t) => t.name === run.terminalName)!.dispose();
      await until(
        () => manager().get(run.id)!.state !== 'running',
        10_000,
        'the run to end with its terminal',
      );
      const r = manager().get(run.id)!;
      assert.strictEqual(r.state, 'lost');
      assert.match(detail(r, 'Status')!, /^ended without an exit status \(its terminal was closed/);
      await until(() => !processAlive(pid), 5000, `optimizer pid ${pid} to be gone`);
    });

    it('without {study} in the template, the study picked as "detect automatically" is found after launch', async () => {
      await cfg().update('runs.commandTemplate', `${fixture} ${flags} --out {out}`, G);
      try {
        const { run, seen } = await launchWith(
          formUser({ profile: /quick/, typed: { trials: '4', strategy: 'detect' }, tmux: false }),
        );
        assert.ok(run);
        assert.ok(
          seen.some(
            (s) =>
              s.placeholder === REVIEW_PLACEHOLDER &&
              s.items.includes('$(beaker) study: detect automatically'),
          ),
          'the review shows how the study is found',
        );
        assert.strictEqual(run.study.source, 'detecting');
        await until(
          () =>
            manager().get(run.id)!.state !== 'running' &&
            manager().get(run.id)!.progress?.finished === 4,
          WAIT_MS,
          "the detected study's trials",
        );
        const r = manager().get(run.id)!;
        assert.strictEqual(r.study.name, 'auto-continuous-detect');
        assert.strictEqual(r.study.source, 'detected');
        assert.strictEqual(r.exitCode, 0);
      } finally {
        await cfg().update('runs.commandTemplate', TEMPLATE, G);
      }
    });

    it('cancelling the form launches nothing', async () => {
      const before = manager().all.length;
      const { run } = await launchWith(
        formUser({
          profile: /quick/,
          typed: { study: 'never-launched' },
          tmux: false,
          onStep: (s) => (s.placeholder === REVIEW_PLACEHOLDER ? 'cancel' : undefined),
        }),
      );
      assert.strictEqual(run, undefined);
      assert.strictEqual(manager().all.length, before);
    });

    it('keeps the history (exit codes, progress) in workspaceState across a reload; the last values are remembered', async () => {
      const stored = api.context.workspaceState.get<RunRecord[]>('optunaStorage.runs.history')!;
      const byId = new Map(stored.map((r) => [r.id, r]));
      assert.strictEqual(byId.get(first.id)?.exitCode, 0);
      assert.strictEqual(byId.get(first.id)?.progress?.finished, 12);
      // A run the history says is running but whose process is gone (e.g. the machine rebooted).
      const ghostDir = fs.mkdtempSync(path.join(out, 'ghost-'));
      fs.writeFileSync(path.join(ghostDir, 'pid'), '999999');
      const ghost: RunRecord = {
        ...byId.get(first.id)!,
        id: 'ghost',
        seq: 999,
        label: 'ghost #999',
        terminalName: 'Optuna run: ghost #999',
        dir: ghostDir,
        state: 'running',
        exitCode: undefined,
        endedAt: undefined,
        pid: undefined,
        startedAt: Date.now(),
      };
      await api.context.workspaceState.update('optunaStorage.runs.history', [ghost, ...stored]);
      await manager().reload();
      assert.strictEqual(manager().get(first.id)?.exitCode, 0);
      assert.strictEqual(manager().get(first.id)?.progress?.finished, 12);
      assert.strictEqual(manager().get('ghost')?.state, 'lost');
      assert.strictEqual(
        detail(manager().get('ghost')!, 'Status'),
        'ended without an exit status (the process ended while VS Code was closed)',
      );
      await vscode.commands.executeCommand('optunaStorage.runs.remove', 'ghost');
      const last = api.context.workspaceState.get<{ values: Record<string, string> }>(
        'optunaStorage.runs.last',
      )!;
      assert.strictEqual(last.values.strategy, 'detect');
    });

    it('offers Launch in the storage status bar actions', async () => {
      const w = vscode.window as unknown as Record<string, unknown>;
      const original = w.showQuickPick;
      let labels: string[] = [];
      w.showQuickPick = async (items: Array<{ label: string }>) =>
        void (labels = items.map((i) => i.label));
      try {
        await vscode.commands.executeCommand('optunaStorage.statusActions');
      } finally {
        w.showQuickPick = original;
      }
      assert.ok(
        labels.some((l) => /Launch optimizer run/.test(l)),
        labels.join(' | '),
      );
    });
  });
}

if (!vscode.workspace.isTrusted) {
  describe('Optimizer runs in Restricted Mode', () => {
    it('refuse to launch anything', async () => {
      const w = vscode.window as unknown as Record<string, unknown>;
      const original = { warn: w.showWarningMessage, qp: w.createQuickPick };
      const warnings: string[] = [];
      let formShown = false;
      w.showWarningMessage = async (m: string) => void warnings.push(m);
      w.createQuickPick = () => {
        formShown = true;
        throw new Error('no form in Restricted Mode');
      };
      try {
        assert.strictEqual(
          await vscode.commands.executeCommand('optunaStorage.runs.launch'),
          undefined,
        );
      } finally {
        w.showWarningMessage = original.warn;
        w.createQuickPick = original.qp;
      }
      assert.strictEqual(formShown, false);
      assert.ok(
        warnings.some((m) => /Launching an optimizer run needs a trusted workspace/.test(m)),
        warnings.join(' | '),
      );
    });
  });
}
