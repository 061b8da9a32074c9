// Issue #17 item 3 in the extension host: one `<x>:log_number` key set to 10^9 (by hand, a bug
// or another tool) next to a real Optuna journal. Prefix discovery finds it by itself, so before
// the fix the extension host grew by gigabytes on every (re)connect. Now the studies and one
// issue naming the missing ranges are shown, quickly, with the host's memory measured.
import * as assert from 'assert';
import * as fs from 'fs';
import { monitorEventLoopDelay } from 'perf_hooks';
import * as vscode from 'vscode';
import type { ExtensionApi } from '../../../src/extension';
import type { Node } from '../../../src/vscode/views/nodes';
import { runPython } from '../../helpers/python';
import { RedisServer } from '../../helpers/redisServer';
import { until } from '../../helpers/waitFor';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const manifest = require('../../../package.json') as { publisher: string; name: string };
const PREFIX = 'huge';
const WAIT_MS = 30_000;

/** This process's (the extension host's) resident memory in MB: now, and its peak. */
function memoryMb(): { rss: number; peak: number } {
  const status = fs.readFileSync('/proc/self/status', 'utf8');
  const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)![1]);
  return { rss: kb('VmRSS') / 1024, peak: kb('VmHWM') / 1024 };
}

/** Starts the peak (VmHWM) again from the current RSS, so it measures only what follows. */
function resetPeak(): boolean {
  try {
    fs.writeFileSync('/proc/self/clear_refs', '5');
    return true;
  } catch {
    return false;
  }
}

if (vscode.workspace.isTrusted) {
  describe('A journal counter key of 10^9 in the extension host', function () {
    this.timeout(120_000);
    let api: ExtensionApi;
    let redis: RedisServer;
    const cfg = () => vscode.workspace.getConfiguration('optunaStorage');
    const G = vscode.ConfigurationTarget.Global;
    const roots = () => api.studies.getChildren() as Node[];
    const label = (n: Node) => String(api.studies.getTreeItem(n).label);
    const issueNode = () =>
      roots().find((n) => n.kind === 'message' && n.id === `issues/${PREFIX}`);

    before(async () => {
      redis = await RedisServer.start();
      await runPython('generate.py', ['--redis', redis.url, '--prefix', PREFIX, '--workers', '1']);
      const c = redis.client();
      // Entries 5..7 evicted, then the counter set to 10^9 (entries 0 … 999,999,999).
      await c.del(`${PREFIX}:log:5`, `${PREFIX}:log:6`, `${PREFIX}:log:7`);
      await c.set(`${PREFIX}:log_number`, String(1e9 - 1));
      c.disconnect();
      api = await vscode.extensions
        .getExtension<ExtensionApi>(`${manifest.publisher}.${manifest.name}`)!
        .activate();
      await cfg().update('redis.prefixes', undefined, G);
      await cfg().update('refreshInterval', 1, G);
    });

    after(async () => {
      for (const k of ['refreshInterval', 'redis.url']) await cfg().update(k, undefined, G);
      await redis?.dispose();
    });

    it('found by discovery: studies and one issue with the missing ranges, in bounded time and memory', async () => {
      const peakMeasured = resetPeak();
      const before = memoryMb();
      // The longest the extension host's event loop was blocked while reading: a hang shows here.
      const lag = monitorEventLoopDelay({ resolution: 10 });
      lag.enable();
      const t0 = Date.now();
      await cfg().update('redis.url', redis.url, G);
      await until(
        () =>
          api.store.loaded &&
          api.store.state.state === 'redis' &&
          api.store.studies().some((s) => s.prefix === PREFIX) &&
          issueNode() !== undefined,
        WAIT_MS,
        `the studies and the issue (${api.store.state.state}: ${api.store.state.detail})`,
      );
      const ms = Date.now() - t0;
      lag.disable();
      const after = memoryMb();
      const growth = (peakMeasured ? after.peak : after.rss) - before.rss;
      console.log(
        `      10^9 counter in the extension host: shown in ${ms} ms; RSS ${before.rss.toFixed(0)} → ${after.rss.toFixed(0)} MB, ` +
          `peak ${after.peak.toFixed(0)} MB (+${growth.toFixed(0)} MB${peakMeasured ? '' : ', peak not resettable'}); ` +
          `longest event-loop block ${(lag.max / 1e6).toFixed(0)} ms`,
      );

      const issues = api.store.current!.issues().find((x) => x.prefix === PREFIX)!.issues;
      assert.deepStrictEqual(
        issues.map((i) => [i.kind, i.index, i.count]),
        [
          ['gap', 5, 3],
          ['gap', issues[1].index, 1e9 - issues[1].index],
        ],
      );
      assert.match(issues[0].message, /huge:log:5 … huge:log:7 are missing \(3 entries/);
      assert.match(
        issues[1].message,
        /no entry exists after .* although the counter huge:log_number says 1000000000 entries/,
      );
      const node = issueNode()!;
      assert.match(
        label(node),
        /^Journal "huge": \d{9} unreadable entries \(\d{9} missing keys\)$/,
      );
      const server = roots().find((n) => n.kind === 'server')!;
      const prefixNode = (api.studies.getChildren(server) as Node[]).find(
        (n) => n.kind === 'prefix' && n.prefix === PREFIX,
      )!;
      const studies = (api.studies.getChildren(prefixNode) as Node[]).filter(
        (n) => n.kind === 'study',
      );
      assert.ok(studies.length > 0, "the journal's studies are listed");

      assert.ok(ms < 20_000, `shown after ${ms} ms`);
      assert.ok(growth < 300, `the extension host grew by ${growth.toFixed(0)} MB`);
      assert.ok(lag.max / 1e6 < 2000, `event loop blocked for ${(lag.max / 1e6).toFixed(0)} ms`);
    });

    it('refreshes with a rescan, then a reconnect, stay bounded: the counter is not walked again', async () => {
      const peakMeasured = resetPeak();
      const before = memoryMb();
      // Reads as the Refresh command makes them (with a rescan for prefixes), and what is new.
      for (let i = 0; i < 3; i++) {
        const at = Date.now();
        await api.refresh.refresh('manual');
        assert.ok((api.store.lastRefreshAt ?? 0) >= at, 'the refresh ran');
        assert.strictEqual(api.store.lastError, undefined);
      }
      // A reconnect (a new store from the settings) discovers and reads the journal again.
      const t0 = Date.now();
      await api.store.start();
      await until(
        () => api.store.loaded && api.store.state.state === 'redis' && issueNode() !== undefined,
        WAIT_MS,
        'the journal read again after the restart',
      );
      const ms = Date.now() - t0;
      const after = memoryMb();
      const growth = (peakMeasured ? after.peak : after.rss) - before.rss;
      console.log(
        `      refreshes and a reconnect: read again in ${ms} ms; +${growth.toFixed(0)} MB (peak ${after.peak.toFixed(0)} MB)`,
      );
      assert.ok(api.store.studies().some((s) => s.prefix === PREFIX));
      assert.ok(ms < 20_000, `read again after ${ms} ms`);
      assert.ok(growth < 300, `the extension host grew by ${growth.toFixed(0)} MB`);
    });
  });
}
