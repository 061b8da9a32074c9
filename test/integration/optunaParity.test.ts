import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { studyToJson } from '../../src/core/optuna/dumpFormat';
import { toStrictJson } from '../../src/core/optuna/strictJson';
import { SqliteReader } from '../../src/core/storage/sqliteReader';
import { runCli } from '../helpers/cli';
import { assertSameDump } from '../helpers/compareDumps';
import { runPython } from '../helpers/python';
import { RedisServer } from '../helpers/redisServer';
import { optunaCompatibleRules } from '../fixtures/replayRules';

/**
 * `optuna-storage dump` must equal what real Optuna 3.1 reports for the same storage: the
 * fixture generator drives Optuna into a Redis journal, a journal file and an SQLite file.
 */
describe('dump equals real Optuna', function () {
  let redis: RedisServer;
  let dir: string;
  const prefix = 'fixture';

  before(async function () {
    this.timeout(300_000);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'osm-parity-'));
    redis = await RedisServer.start();
    await runPython('generate.py', [
      '--redis',
      redis.url,
      '--prefix',
      prefix,
      '--journal',
      path.join(dir, 'journal.log'),
      '--sqlite',
      path.join(dir, 'optuna.db'),
    ]);
  });

  after(async () => {
    await redis?.dispose();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  // Optuna's dump of the fixture storages (written once, in `before`), per argument list:
  // the SQLite file is compared twice.
  const optunaDumps = new Map<string, Promise<string>>();
  const optunaDump = (args: string[]): Promise<string> => {
    const key = JSON.stringify(args);
    if (!optunaDumps.has(key)) optunaDumps.set(key, runPython('optuna_dump.py', args));
    return optunaDumps.get(key)!;
  };

  const cases: Array<[string, () => string[]]> = [
    ['Redis journal', () => [redis.url, '--prefix', prefix]],
    ['journal file', () => [path.join(dir, 'journal.log')]],
    ['SQLite', () => [`sqlite:///${path.join(dir, 'optuna.db')}`]],
  ];
  for (const [label, args] of cases) {
    it(`${label}: every study and trial`, async () => {
      const ours = await runCli(['dump', ...args()]);
      assert.equal(ours.stderr, '');
      assert.equal(ours.status, 0);
      const optuna = await optunaDump(args());
      const n = assertSameDump(ours.stdout, optuna, label);
      assert.ok(n.studies >= 5 && n.trials >= 200, `fixture too small: ${JSON.stringify(n)}`);
    });
  }

  it('SQLite read a few rows per statement (every table crosses chunk boundaries) is the same', async () => {
    const file = path.join(dir, 'optuna.db');
    const reader = new SqliteReader(file, 2000, 7);
    let studies;
    try {
      studies = reader.readAll();
    } finally {
      reader.close();
    }
    const ours = toStrictJson({ studies: studies.map(studyToJson) } as never);
    const n = assertSameDump(ours, await optunaDump([`sqlite:///${file}`]), 'SQLite, 7-row chunks');
    assert.ok(n.trials >= 200, `fixture too small: ${JSON.stringify(n)}`);
  });

  it('replay rules: a hand-written journal file replays as Optuna replays it', async () => {
    const file = path.join(dir, 'rules.log');
    fs.writeFileSync(file, optunaCompatibleRules().join('\n') + '\n');
    const ours = await runCli(['dump', file]);
    assert.equal(ours.status, 0, ours.stderr);
    assertSameDump(ours.stdout, await runPython('optuna_dump.py', [file]), 'rules (file)');
  });

  it('replay rules: the same records in Redis under the empty default prefix', async () => {
    const c = redis.client();
    try {
      const lines = optunaCompatibleRules();
      await c.set(':log_number', lines.length - 1);
      await c.mset(...lines.flatMap((l, i) => [`:log:${i}`, l]));
    } finally {
      c.disconnect();
    }
    const ours = await runCli(['dump', redis.url]);
    assert.equal(ours.status, 0, ours.stderr);
    assertSameDump(
      ours.stdout,
      await runPython('optuna_dump.py', [redis.url, '--ignore-snapshot']),
      'rules (redis)',
    );
  });

  it('the bundled CLI (dist/cli.js) prints the same document', async () => {
    const cli = path.resolve(__dirname, '../../dist/cli.js');
    assert.ok(fs.existsSync(cli), 'dist/cli.js is missing: npm test builds it first');
    const { execFileSync } = await import('node:child_process');
    const out = execFileSync(process.execPath, [cli, 'dump', path.join(dir, 'journal.log')], {
      maxBuffer: 1 << 28,
    }).toString();
    assert.equal(out, (await runCli(['dump', path.join(dir, 'journal.log')])).stdout);
  });
});
