// The study page in a real extension host, against a Redis journal written by real Optuna. The
// webview's own document is read and driven through the runner's browser bridge (clicks, typing,
// a mouse drag on the parallel coordinates, the workbench's modal dialog).
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as vscode from 'vscode';
import type { ExtensionApi } from '../../../src/extension';
import type { MergedStudy } from '../../../src/core/storage/mergedView';
import type { StudyPagePanel } from '../../../src/vscode/studyPage/studyPagePanel';
import { runPython } from '../../helpers/python';
import { RedisServer } from '../../helpers/redisServer';
import { until } from '../../helpers/waitFor';
import { bridgeUrl, pageReport, webview } from './browser';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const manifest = require('../../../package.json') as { publisher: string; name: string };
const PREFIX = 'page';
const STUDY = 'page-demo';
const WAIT_MS = 60_000;

if (bridgeUrl && vscode.workspace.isTrusted)
  describe('Study page (webview) in a real extension host', function () {
    this.timeout(180_000);
    let api: ExtensionApi;
    let redis: RedisServer;
    let panel: StudyPagePanel;
    let dir: string | undefined;
    const cfg = () => vscode.workspace.getConfiguration('optunaStorage');
    const page = webview(STUDY);
    const study = (): MergedStudy => api.store.studies().find((s) => s.name === STUDY)!;
    const shown = () => page.eval<string>("document.querySelector('.status').textContent");

    before(async () => {
      redis = await RedisServer.start({ args: ['--appendonly', 'yes'] });
      await runPython('page_study.py', [
        '--redis',
        redis.url,
        '--prefix',
        PREFIX,
        '--trials',
        '60',
        '--zombie',
      ]);
      await runPython('page_bad_input.py', ['--redis', redis.url, '--prefix', PREFIX]);
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'osm-page-'));
      await runPython('small_db.py', [path.join(dir, 'fallback.db')]);
      api = await vscode.extensions
        .getExtension<ExtensionApi>(`${manifest.publisher}.${manifest.name}`)!
        .activate();
      await cfg().update('refreshInterval', 1, vscode.ConfigurationTarget.Global);
      await cfg().update('redis.prefixes', [PREFIX], vscode.ConfigurationTarget.Global);
      await cfg().update(
        'sqlite.path',
        path.join(dir!, 'fallback.db'),
        vscode.ConfigurationTarget.Global,
      );
      await cfg().update('redis.url', redis.url, vscode.ConfigurationTarget.Global);
      await until(
        () => api.store.state.state === 'redis' && !!study(),
        WAIT_MS,
        'the store to read the study',
      );
    });

    after(async () => {
      for (const p of api?.studyPages.all ?? []) p.dispose();
      for (const k of ['refreshInterval', 'redis.prefixes', 'sqlite.path', 'redis.url'])
        await cfg().update(k, undefined, vscode.ConfigurationTarget.Global);
      await redis?.dispose();
      if (dir) fs.rmSync(dir, { recursive: true, force: true });
    });

    it('opens the page of a real Optuna study: plots drawn, every trial in the table, nothing blocked by the CSP', async () => {
      const s = study();
      await vscode.commands.executeCommand('optunaStorage.openStudyPage', s.key);
      panel = api.studyPages.get(s.key)!;
      assert.ok(panel, 'a panel for the study');
      assert.strictEqual(panel.panel.title, STUDY);
      const table = await pageReport(panel, (r) => r.event === 'table');
      assert.strictEqual(table.rows, s.trials.length);
      assert.strictEqual(table.shown, s.trials.length);
      assert.strictEqual(table.detail, 'csp violations: 0');
      const drawn = await pageReport(
        panel,
        (r) => r.event === 'drawn' && (r.charts?.length ?? 0) > 1,
      );
      assert.deepStrictEqual(drawn.charts!.sort(), [
        'curves',
        'history',
        'importance',
        'parallel',
        'slice',
        'timeline',
      ]);
      assert.match(await shown(), new RegExp(`^${s.trials.length} of ${s.trials.length} trials`));
      // Optuna's own count of the study's trials.
      const optuna = JSON.parse(
        await runPython('optuna_dump.py', [redis.url, '--prefix', PREFIX]),
      ) as {
        studies: Array<{ study_name: string; trials: unknown[] }>;
      };
      assert.strictEqual(
        optuna.studies.find((x) => x.study_name === STUDY)!.trials.length,
        s.trials.length,
      );
      // PED-ANOVA, computed in the worker thread, for the COMPLETE trials.
      await until(() => !!panel.lastImportance, WAIT_MS, 'the importance');
      const complete = s.trials.filter((t) => t.trial.state === 'COMPLETE').length;
      assert.strictEqual(panel.lastImportance!.completeCount, complete);
      const ranked = panel.lastImportance!.objectives[0].params;
      assert.deepStrictEqual(ranked.map((p) => p.name).sort(), [
        'dropout',
        'layers',
        'lr',
        'optimizer',
      ]);
      assert.ok(Math.abs(ranked.reduce((a, p) => a + p.importance, 0) - 1) < 1e-9);
      const canvases = await page.eval<number>("document.querySelectorAll('.chart canvas').length");
      assert.ok(canvases >= 6, `${canvases} canvases`);
    });

    it('shows a trial that real Optuna writes afterwards, without reopening', async () => {
      const before = study().trials.length;
      const since = panel.reports.length;
      await runPython('page_study.py', [
        '--redis',
        redis.url,
        '--prefix',
        PREFIX,
        '--add',
        STUDY,
        '--count',
        '1',
      ]);
      const applied = await pageReport(
        panel,
        (r) => r.event === 'applied' && r.rows === before + 1,
        since,
      );
      assert.strictEqual(
        applied.generation,
        panel.reports.find((r) => r.event === 'table')!.generation,
        'a delta, not a new snapshot',
      );
      await until(
        async () => (await shown()).startsWith(`${before + 1} of ${before + 1} trials`),
        WAIT_MS,
        'the new row in the table',
      );
    });

    it('costs nothing while hidden, and shows what changed meanwhile when shown again', async () => {
      const before = study().trials.length;
      const doc = await vscode.workspace.openTextDocument({ content: 'another editor' });
      await vscode.window.showTextDocument(doc, { viewColumn: panel.panel.viewColumn });
      await until(() => !panel.panel.visible, WAIT_MS, 'the page hidden');
      const encoded = panel.lastEncode;
      const since = panel.reports.length;
      await runPython('page_study.py', [
        '--redis',
        redis.url,
        '--prefix',
        PREFIX,
        '--add',
        STUDY,
        '--count',
        '1',
      ]);
      // Nothing visible asks for reads now (the page kept the store fresh): read it here.
      await api.refresh.refresh('shown');
      assert.strictEqual(study().trials.length, before + 1, 'the store has the new trial');
      // Longer than the page's coalescing delay: still nothing encoded for a hidden page.
      await new Promise((r) => setTimeout(r, 1500));
      assert.strictEqual(panel.lastEncode, encoded, 'nothing encoded while hidden');
      assert.strictEqual(panel.reports.length, since, 'the hidden page has no document to report');
      await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
      panel.panel.reveal();
      const table = await pageReport(panel, (r) => r.event === 'table', since);
      assert.strictEqual(table.rows, before + 1, 'a fresh snapshot with the new trial');
      assert.strictEqual(panel.lastEncode?.type, 'snapshot');
      await pageReport(panel, (r) => r.event === 'drawn' && (r.charts?.length ?? 0) > 1, since);
    });

    it('sorts, filters (with a clear error for a bad expression) and brushes the rows', async () => {
      const n = study().trials.length;
      // Sort by value: click the header (a button).
      let since = panel.reports.length;
      await page.click('.th[title="Sort by value (min)"]');
      const sorted = await pageReport(panel, (r) => r.event === 'sorted', since);
      assert.strictEqual(sorted.detail, 'value0');
      const values = await page.eval<string[]>(
        "[...document.querySelectorAll('.tr:not([hidden])')].slice(0, 8).map((tr) => tr.children[2].textContent)",
      );
      const nums = values.filter((v) => v !== '').map(Number);
      assert.ok(
        nums.length >= 5 && nums.every((v, i) => i === 0 || nums[i - 1] <= v),
        values.join(' '),
      );

      // A filter expression: the rows match what the model says.
      const expected = study().trials.filter(
        (t) => t.trial.state === 'COMPLETE' && (t.trial.params.lr as number) < 0.001,
      ).length;
      since = panel.reports.length;
      await page.fill('.filter', 'state == COMPLETE and lr < 0.001');
      await page.press('.filter', 'Enter');
      const filtered = await pageReport(panel, (r) => r.event === 'filtered' && !r.detail, since);
      assert.strictEqual(filtered.shown, expected);
      assert.ok(expected > 0 && expected < n, `${expected} of ${n}`);

      // Export the rows shown: the CSV holds exactly them, with Optuna's trials_dataframe columns.
      const file = path.join(dir!, 'filtered.csv');
      const w = vscode.window as unknown as Record<string, unknown>;
      const original = w.showSaveDialog;
      w.showSaveDialog = async () => vscode.Uri.file(file);
      try {
        await page.click('button:has-text("Export CSV")');
        await until(() => fs.existsSync(file), WAIT_MS, 'the exported file');
      } finally {
        w.showSaveDialog = original;
      }
      const csv = fs.readFileSync(file, 'utf8').trimEnd().split('\n');
      assert.strictEqual(csv.length, expected + 1);
      assert.match(
        csv[0],
        /^number,value,datetime_start,datetime_complete,duration,params_dropout,params_layers,params_lr,params_optimizer,/,
      );

      // A bad one: the error says where and what, the other filters still apply.
      since = panel.reports.length;
      await page.fill('.filter', 'lrr < 0.001');
      await page.press('.filter', 'Enter');
      const bad = await pageReport(panel, (r) => r.event === 'filtered' && !!r.detail, since);
      assert.match(bad.detail!, /^unknown name "lrr"; names are /);
      assert.strictEqual(bad.shown, n);
      assert.match(
        await page.eval<string>("document.querySelector('.error').textContent"),
        /^Filter: unknown name "lrr"/,
      );
      await page.fill('.filter', '');
      await page.press('.filter', 'Enter');

      // Keyboard: in the grid, Home selects the first row and ArrowDown the next one.
      await page.press('.tscroll', 'Home');
      await page.press('.tscroll', 'ArrowDown');
      assert.strictEqual(
        await page.eval<string>(
          "document.querySelector('.tr.selected').getAttribute('aria-rowindex')",
        ),
        '2',
      );

      // A brush along the first axis of the parallel coordinates filters the table.
      await page.eval("document.querySelector('#card-parallel').scrollIntoView()");
      since = panel.reports.length;
      const box = await page.eval<{ w: number }>(
        "({ w: document.querySelector('#card-parallel .chart').clientWidth })",
      );
      const axisX = 48 / box.w; // the first axis sits at the grid's left edge
      await page.drag('#card-parallel .chart', [axisX, 0.5], [axisX, 0.95]);
      const brushed = await pageReport(
        panel,
        (r) => r.event === 'filtered' && /^brush: /.test(r.detail ?? ''),
        since,
      );
      // "brush: dropout 0.0012–0.21": the rows are exactly the trials with the param in that range.
      const m = /^brush: (\S+) (\S+)–(\S+)$/.exec(brushed.detail!);
      assert.ok(m, brushed.detail);
      const [lo, hi] = [
        Number(m[3]) < Number(m[2]) ? Number(m[3]) : Number(m[2]),
        Math.max(Number(m[2]), Number(m[3])),
      ];
      const inside = study().trials.filter((t) => {
        const v = t.trial.params[m[1]];
        return typeof v === 'number' && v >= lo * (1 - 1e-5) && v <= hi * (1 + 1e-5);
      }).length;
      assert.ok(
        brushed.shown > 0 && brushed.shown < n,
        `${brushed.shown} of ${n} rows inside the brush`,
      );
      assert.ok(
        Math.abs(brushed.shown - inside) <= 1,
        `${brushed.shown} rows shown, ${inside} trials with ${m[1]} in ${lo}..${hi}`,
      );
      assert.match(await shown(), /brushed on the parallel coordinates: /);
      since = panel.reports.length;
      await page.click('#card-parallel button.clearbrush');
      await pageReport(panel, (r) => r.event === 'filtered' && r.shown === n, since);

      // The same range typed into the brush form (the keyboard's way): the same rows.
      await page.eval(
        `(() => { const s = document.querySelector('.brushform select'); s.value = [...s.options].find((o) => o.textContent === ${JSON.stringify(m[1])}).value; s.dispatchEvent(new Event('change')); })()`,
      );
      await page.fill('.brushform input[aria-label="From"]', m[2]);
      await page.fill('.brushform input[aria-label="To"]', m[3]);
      since = panel.reports.length;
      await page.press('.brushform input[aria-label="To"]', 'Enter');
      const typed = await pageReport(
        panel,
        (r) => r.event === 'filtered' && /^brush: /.test(r.detail ?? ''),
        since,
      );
      assert.strictEqual(typed.detail, brushed.detail);
      assert.ok(
        Math.abs(typed.shown - inside) <= 1 && Math.abs(typed.shown - brushed.shown) <= 1,
        `${typed.shown} rows for the typed range, ${brushed.shown} for the dragged one, ${inside} trials inside`,
      );
      since = panel.reports.length;
      await page.click('#card-parallel button.clearbrush');
      await pageReport(panel, (r) => r.event === 'filtered' && r.shown === n, since);
    });

    it('flags the zombie trial stale with its reason, and Mark as FAIL makes Optuna read FAIL', async () => {
      const zombie = study().trials.find((t) => t.trial.state === 'RUNNING')!;
      assert.ok(zombie, 'the fixture has a RUNNING trial');
      await until(
        async () =>
          (await page.eval<string>("document.querySelector('.chip.stale')?.textContent ?? ''")) ===
          '1 stale RUNNING',
        WAIT_MS,
        'the stale flag',
      );
      await page.fill('.filter', 'stale');
      await page.press('.filter', 'Enter');
      await until(async () => (await shown()).startsWith('1 of '), WAIT_MS, 'the stale row alone');
      await page.click('.tr:not([hidden])');
      await until(
        async () =>
          (
            await page.eval<string>("document.querySelector('.details')?.textContent ?? ''")
          ).includes('has since started trial'),
        WAIT_MS,
        'the reason in the details',
      );
      // The row is revealed in the Studies tree too.
      await until(
        () => {
          const sel = api.studiesView.selection[0];
          return sel?.kind === 'trial' && sel.trial.trial.trialId === zombie.trial.trialId;
        },
        WAIT_MS,
        'the trial selected in the Studies tree',
      );
      const label = await page.eval<string>("document.querySelector('button.danger').textContent");
      assert.strictEqual(label, `Mark #${zombie.trial.number} as FAIL…`);
      // VS Code shows no modal dialogs while extension tests run: answer the confirmation here
      // (test/extension/pageUi.ts clicks the real dialog); the write and Optuna's reading are real.
      const asked: string[] = [];
      const w = vscode.window as unknown as Record<string, unknown>;
      const original = w.showWarningMessage;
      w.showWarningMessage = async (m: string, o: { detail?: string }, ...items: string[]) => {
        asked.push(`${m} ${o?.detail ?? ''}`);
        return items[0];
      };
      try {
        await page.click('button.danger');
        await until(() => asked.length > 0, WAIT_MS, 'the confirmation');
      } finally {
        w.showWarningMessage = original;
      }
      assert.match(
        asked[0],
        new RegExp(`^Mark trial #${zombie.trial.number} of "${STUDY}" as FAIL\\? `),
      );
      assert.match(asked[0], /writing Optuna's own record into the Redis journal/);
      await until(
        () =>
          study().trials.find((t) => t.trial.trialId === zombie.trial.trialId)?.trial.state ===
          'FAIL',
        WAIT_MS,
        'FAIL in the store',
      );
      const optuna = await runPython('page_study.py', [
        '--redis',
        redis.url,
        '--prefix',
        PREFIX,
        '--state',
        STUDY,
        String(zombie.trial.number),
      ]);
      assert.match(optuna, /^FAIL \d{4}-\d\d-\d\dT/);
      await until(
        async () =>
          (await page.eval<number>("document.querySelectorAll('.chip.stale').length")) === 0,
        WAIT_MS,
        'no stale trial left on the page',
      );
    });

    it('Mark as FAIL on a zombie that lives only in the SQLite fallback file: asks to write to that file, then Optuna reads FAIL', async () => {
      // Real Optuna writes a study into the configured fallback file (Optuna's RDB storage),
      // with a RUNNING trial whose heartbeat it wrote once; the grace period here is 1 s.
      const db = path.join(dir!, 'fallback.db');
      const name = 'page-sqlite-only';
      await runPython('page_study.py', [
        '--sqlite',
        db,
        '--name',
        name,
        '--trials',
        '12',
        '--zombie',
        '--heartbeat',
      ]);
      await cfg().update('studyPage.heartbeatGraceSeconds', 1, vscode.ConfigurationTarget.Global);
      const only = () => api.store.studies().find((x) => x.name === name);
      // The whole study, not a read taken while Optuna was still writing it (whose RUNNING
      // trial would be one in progress): 12 trials, then the zombie and the trial after it.
      await until(
        () =>
          only()?.trials.length === 14 &&
          only()!.trials.filter((t) => t.trial.state === 'RUNNING').length === 1,
        WAIT_MS,
        'the SQLite study with its RUNNING trial',
      );
      const zombie = only()!.trials.find((t) => t.trial.state === 'RUNNING')!;
      assert.strictEqual(zombie.source, 'sqlite', 'the trial lives only in the SQLite file');
      await vscode.commands.executeCommand('optunaStorage.openStudyPage', only()!.key);
      const p = api.studyPages.get(only()!.key)!;
      const w = webview(name);
      try {
        await pageReport(p, (r) => r.event === 'table');
        await until(
          async () =>
            (await w.eval<string>("document.querySelector('.chip.stale')?.textContent ?? ''")) ===
            '1 stale RUNNING',
          WAIT_MS,
          'the stale flag from the heartbeat',
        );
        await w.fill('.filter', 'stale');
        await w.press('.filter', 'Enter');
        await until(
          async () =>
            (await w.eval<string>("document.querySelector('.status').textContent")).startsWith(
              '1 of ',
            ),
          WAIT_MS,
          'the stale row alone',
        );
        await w.click('.tr:not([hidden])');
        await until(
          async () =>
            (await w.eval<string>("document.querySelector('button.danger')?.textContent ?? ''")) ===
            `Mark #${zombie.trial.number} as FAIL…`,
          WAIT_MS,
          'the Mark as FAIL button',
        );
        // Both confirmations answered yes (no modal dialogs in extension tests); each recorded.
        const asked: string[] = [];
        const win = vscode.window as unknown as Record<string, unknown>;
        const original = win.showWarningMessage;
        win.showWarningMessage = async (m: string, o: { detail?: string }, ...items: string[]) => {
          asked.push(`${m} ${o?.detail ?? ''}`);
          return items[0];
        };
        try {
          await w.click('button.danger');
          await until(() => asked.length >= 2, WAIT_MS, 'both confirmations');
        } finally {
          win.showWarningMessage = original;
        }
        assert.match(
          asked[0],
          new RegExp(`^Mark trial #${zombie.trial.number} of "${name}" as FAIL\\? `),
        );
        assert.ok(asked[0].includes(`into the SQLite file ${db}.`), asked[0]);
        assert.ok(!asked[0].includes('Redis journal'), asked[0]);
        assert.ok(asked[1].startsWith(`Write to the SQLite file ${db}? `), asked[1]);
        await until(
          () =>
            only()?.trials.find((t) => t.trial.trialId === zombie.trial.trialId)?.trial.state ===
            'FAIL',
          WAIT_MS,
          'FAIL in the store',
        );
        const optuna = await runPython('page_study.py', [
          '--sqlite',
          db,
          '--state',
          name,
          String(zombie.trial.number),
        ]);
        assert.match(optuna, /^FAIL \d{4}-\d\d-\d\dT/);
        await until(
          async () =>
            (await w.eval<number>("document.querySelectorAll('.chip.stale').length")) === 0,
          WAIT_MS,
          'no stale trial left on the page',
        );
      } finally {
        p.dispose();
        await cfg().update(
          'studyPage.heartbeatGraceSeconds',
          undefined,
          vscode.ConfigurationTarget.Global,
        );
      }
      // The first study's page in front again (it reloads: no retained context) for what follows.
      panel.panel.reveal();
      await until(
        async () => /^\d+ of \d+ trials/.test(await shown().catch(() => '')),
        WAIT_MS,
        `the page of "${STUDY}" shown again`,
      );
    });

    it('keeps the page and says so when Redis goes away: the fallback banner, rows still there', async () => {
      const n = study().trials.length;
      await page.fill('.filter', '');
      await page.press('.filter', 'Enter');
      await redis.kill();
      await until(
        async () =>
          /^Redis is unreachable: showing the SQLite fallback/.test(
            await page.eval<string>(
              "document.querySelector('.banner').hidden ? '' : document.querySelector('.banner').textContent",
            ),
          ),
        WAIT_MS,
        'the fallback banner',
      );
      assert.match(await shown(), new RegExp(`^${n} of ${n} trials`));
      await redis.start();
      await until(
        async () => await page.eval<boolean>("document.querySelector('.banner').hidden"),
        WAIT_MS,
        'the banner gone when Redis is back',
      );
    });

    /** Opens a study's page and waits for every plot; returns the page's visible text parts. */
    async function openBad(
      name: string,
    ): Promise<{ notes: string; cards: Record<string, string>; status: string }> {
      const s = api.store.studies().find((x) => x.name === name)!;
      await vscode.commands.executeCommand('optunaStorage.openStudyPage', s.key);
      const p = api.studyPages.get(s.key)!;
      await pageReport(p, (r) => r.event === 'drawn' && (r.charts?.length ?? 0) !== 1);
      const w = webview(name);
      await until(
        async () =>
          !(await w.eval<boolean>("!!document.querySelector('.banner.error:not([hidden])')")),
        5000,
        'no error',
      );
      return w.eval(
        "({ notes: document.querySelector('.notes').textContent, status: document.querySelector('.status').textContent, cards: Object.fromEntries([...document.querySelectorAll('.card')].map((c) => [c.id.slice(5), c.querySelector('.cardnotes').textContent])) })",
      );
    }

    it('renders bad input and says what it leaves out: params changing type, NaN/±inf, 0 trials, 400 params, 5 objectives', async () => {
      const types = await openBad('types-change');
      assert.match(types.notes, /Param "p" changes type between trials \(Float, Categorical\)/);
      assert.match(types.status, /^15 of 15 trials/);

      const nonFinite = await openBad('non-finite');
      assert.match(nonFinite.cards.history, /trials? with a NaN or infinite value not plotted/);
      assert.match(nonFinite.cards.curves, /NaN or infinite intermediate values not plotted/);

      const empty = await openBad('empty');
      assert.match(empty.status, /^0 of 0 trials/);
      assert.ok(
        await webview('empty').eval<boolean>("document.querySelector('#card-pareto').hidden"),
        'no Pareto card for one objective',
      );

      const wide = await openBad('wide-400');
      assert.match(wide.status, /^25 of 25 trials/);
      assert.match(
        wide.cards.parallel,
        /Axes for the 8 most important params; 392 more are in the table/,
      );
      const columns = await webview('wide-400').eval<number>(
        "document.querySelectorAll('.chooserlist input').length",
      );
      assert.ok(columns >= 405, `${columns} columns in the chooser`);

      const five = await openBad('five-objectives');
      assert.match(five.cards.pareto, /shows two or three objectives; this study has 5/);
      assert.strictEqual(
        await webview('five-objectives').eval<number>(
          "document.querySelectorAll('.chartbar option').length",
        ),
        5,
      );
    });
  });
