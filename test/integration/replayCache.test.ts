import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { studyToJson } from '../../src/core/optuna/dumpFormat';
import { appendJournalBatch, logKey, logNumberKey } from '../../src/core/optuna/journal/redisLog';
import { RedisJournalReader } from '../../src/core/storage/redisJournalReader';
import { FailoverStore } from '../../src/core/storage/failoverStore';
import { ReplayCache } from '../../src/core/storage/replayCache';
import { runCli } from '../helpers/cli';
import { until } from '../helpers/waitFor';
import { RedisServer } from '../helpers/redisServer';
import { optunaCompatibleRules } from '../fixtures/replayRules';

describe('local replay cache of Redis journals', () => {
  let redis: RedisServer;
  let cacheDir: string;

  before(async () => {
    redis = await RedisServer.start();
    cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'osm-rc-'));
  });
  after(async () => {
    await redis.dispose();
    fs.rmSync(cacheDir, { recursive: true, force: true });
  });

  async function append(prefix: string, lines: string[]): Promise<void> {
    const c = redis.client();
    await appendJournalBatch(c, prefix, lines);
    c.disconnect();
  }

  it('a second reader resumes from the cache and reads only the new entries', async () => {
    const lines = optunaCompatibleRules();
    await append('c1', lines);
    const cache = new ReplayCache(cacheDir);
    const key = `${redis.url}|c1`;
    const c = redis.client();
    const first = new RedisJournalReader(c, 'c1', { cache, key, saveEvery: 1 });
    assert.equal((await first.refresh()).entries, lines.length);
    first.saveCacheIfDue();

    await append('c1', [lines[3]]); // one more CREATE_TRIAL for study 0
    const second = new RedisJournalReader(c, 'c1', { cache, key });
    const r = await second.refresh();
    assert.equal(r.entries, 1, 'only the appended entry is read');
    const fresh = new RedisJournalReader(c, 'c1');
    await fresh.refresh();
    assert.deepStrictEqual(
      second.replay.allStudies().map(studyToJson),
      fresh.replay.allStudies().map(studyToJson),
    );
    c.disconnect();
  });

  it('a journal replaced under the same key is detected and read from the start', async () => {
    const lines = optunaCompatibleRules();
    await append('c2', lines);
    const cache = new ReplayCache(cacheDir);
    const key = `${redis.url}|c2`;
    const c = redis.client();
    const before = new RedisJournalReader(c, 'c2', { cache, key, saveEvery: 1 });
    await before.refresh();
    before.saveCacheIfDue();
    // Someone deletes the journal and a different run writes as many entries.
    await c.del(logNumberKey('c2'), ...lines.map((_l, i) => logKey('c2', i)));
    const other = [...lines.slice(0, 3), ...lines.slice(3).reverse()];
    await append('c2', other);
    const after = new RedisJournalReader(c, 'c2', { cache, key });
    assert.equal((await after.refresh()).entries, other.length);
    const fresh = new RedisJournalReader(c, 'c2');
    await fresh.refresh();
    assert.deepStrictEqual(
      after.replay.allStudies().map(studyToJson),
      fresh.replay.allStudies().map(studyToJson),
    );
    c.disconnect();
  });

  it('a corrupt cache file is ignored', async () => {
    const lines = optunaCompatibleRules();
    await append('c3', lines);
    const cache = new ReplayCache(cacheDir);
    const key = `${redis.url}|c3`;
    const c = redis.client();
    const before = new RedisJournalReader(c, 'c3', { cache, key, saveEvery: 1 });
    await before.refresh();
    before.saveCacheIfDue();
    for (const f of fs.readdirSync(cacheDir)) fs.writeFileSync(path.join(cacheDir, f), 'garbage');
    const r = new RedisJournalReader(c, 'c3', { cache, key });
    assert.equal((await r.refresh()).entries, lines.length);
    c.disconnect();
  });

  it('the store writes the cache after it announced the new data, and starts from it next time', async () => {
    const lines = optunaCompatibleRules();
    const many: string[] = [];
    while (many.length < 6000)
      many.push(
        ...lines.map((l) =>
          l.replace(/"study_name": "(\w+)"/, `"study_name": "$1-${many.length}"`),
        ),
      );
    await append('c5', many);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'osm-store-cache-'));
    const opts = { redisUrl: redis.url, prefixes: ['c5'], cacheDir: dir };
    const store = new FailoverStore(opts);
    try {
      let filesAtData: string[] | undefined;
      store.once('data', () => (filesAtData = fs.readdirSync(dir)));
      await store.start();
      assert.ok((await store.refresh()).redisEntries >= many.length);
      assert.deepEqual(filesAtData, [], 'no cache written before the data was announced');
      await until(() => fs.readdirSync(dir).length === 1, 10_000, 'the cache file');
    } finally {
      store.close();
    }
    const again = new FailoverStore(opts);
    try {
      await again.start();
      assert.equal((await again.refresh()).redisEntries, 0, 'every entry came from the cache');
      assert.deepEqual(
        again.studies().map((x) => [x.name, x.trials.length]),
        store.studies().map((x) => [x.name, x.trials.length]),
      );
    } finally {
      again.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the CLI dump of a large journal writes the cache and gives the same output from it', async () => {
    const lines = optunaCompatibleRules();
    const many: string[] = [];
    while (many.length < 10_500)
      many.push(
        ...lines.map((l) =>
          l.replace(/"study_name": "(\w+)"/, `"study_name": "$1-${many.length}"`),
        ),
      );
    await append('big', many);
    const cacheHome = fs.mkdtempSync(path.join(os.tmpdir(), 'osm-xdg-'));
    try {
      const env = { XDG_CACHE_HOME: cacheHome };
      const cold = await runCli(['dump', redis.url, '--prefix', 'big'], env);
      assert.equal(cold.status, 0, cold.stderr);
      const files = fs.readdirSync(path.join(cacheHome, 'optuna-storage-manager', 'journals'));
      assert.equal(files.length, 1);
      assert.equal(
        fs.statSync(path.join(cacheHome, 'optuna-storage-manager', 'journals', files[0])).mode &
          0o777,
        0o600,
      );
      await append('big', [lines[3]]);
      const warm = await runCli(['dump', redis.url, '--prefix', 'big'], env);
      const none = await runCli(['dump', redis.url, '--prefix', 'big', '--no-cache'], env);
      assert.equal(warm.stdout, none.stdout);
      assert.notEqual(warm.stdout, cold.stdout);
    } finally {
      fs.rmSync(cacheHome, { recursive: true, force: true });
    }
  });
});
