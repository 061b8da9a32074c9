// The first read of a large journal takes seconds (a 100,000-trial study: 3-8 s on a busy
// machine): the Studies view's "Loading studies…" row says how far it got.
import * as assert from 'assert';
import * as vscode from 'vscode';
import type { ExtensionApi } from '../../../src/extension';
import type { Node } from '../../../src/vscode/views/nodes';
import { writeFinishedStudy } from '../../helpers/journalWriter';
import { onMget } from '../../helpers/mgetSpy';
import { RedisServer } from '../../helpers/redisServer';
import { until } from '../../helpers/waitFor';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const manifest = require('../../../package.json') as { publisher: string; name: string };
const PREFIX = 'loading';
const TRIALS = 10_000; // 20,001 entries: five MGETs of 5,000, the fourth once the first was replayed

if (vscode.workspace.isTrusted) {
  describe('Loading studies: the first read of a large journal shows its progress', function () {
    this.timeout(120_000);
    let api: ExtensionApi;
    let redis: RedisServer;
    const cfg = () => vscode.workspace.getConfiguration('optunaStorage');
    const G = vscode.ConfigurationTarget.Global;

    before(async () => {
      redis = await RedisServer.start();
      const c = redis.client();
      await writeFinishedStudy(c, PREFIX, 'loading-progress', TRIALS);
      c.disconnect();
      api = await vscode.extensions
        .getExtension<ExtensionApi>(`${manifest.publisher}.${manifest.name}`)!
        .activate();
    });

    after(async () => {
      for (const k of ['redis.url', 'redis.prefixes']) await cfg().update(k, undefined, G);
      await redis?.dispose();
    });

    it('the loading row counts the journal entries replayed of those to read', async () => {
      let atFourth: { label: string; description: unknown } | undefined;
      let hooked = false;
      // The store built for this server: look at the view as its first read sends the fourth
      // MGET (the first 5,000 entries replayed, the first read not done).
      const sub = api.store.onDidChangeState(() => {
        const store = api.store.current;
        if (hooked || !store?.redisClient || store.options.redisUrl !== redis.url) return;
        hooked = true;
        onMget(store.redisClient, (n) => {
          if (n !== 4) return;
          const item = api.studies.getTreeItem(api.studies.getChildren()[0] as Node);
          atFourth = { label: String(item.label), description: item.description };
        });
      });
      try {
        await cfg().update('redis.prefixes', [PREFIX], G);
        await cfg().update('redis.url', redis.url, G);
        await until(
          () =>
            api.store.loaded &&
            api.store.current?.options.redisUrl === redis.url &&
            api.store.studies().some((s) => s.trials.length === TRIALS),
          60_000,
          'the study read whole',
        );
      } finally {
        sub.dispose();
      }
      assert.ok(hooked, 'the store for the server was seen');
      assert.deepStrictEqual(atFourth, {
        label: 'Loading studies…',
        description: '5,000 of 20,001 journal entries',
      });
      const first = api.studies.getTreeItem(api.studies.getChildren()[0] as Node);
      assert.notStrictEqual(String(first.label), 'Loading studies…');
    });
  });
}
