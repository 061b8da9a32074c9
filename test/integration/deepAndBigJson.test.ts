import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { openSqlite } from '../../src/core/storage/sqliteDriver';
import { runCli } from '../helpers/cli';
import { assertSameDump } from '../helpers/compareDumps';
import { runPython } from '../helpers/python';
import { RedisServer } from '../helpers/redisServer';

/** 10**400 as Python's json writes it: a 401-digit integer literal. */
const BIG = '1' + '0'.repeat(400);

/**
 * One entry nested `depth` levels deep (a study attribute set by something other than
 * Optuna: Python's json can neither write nor read it). 5,000 levels was parsed by JSON.parse
 * and then overflowed the stack while being written, failing the whole dump; 200,000
 * overflowed the parser.
 */
function deepEntry(depth: number): string {
  return `{"op_code": 2, "worker_id": "intruder", "study_id": 0, "user_attr": {"deep": ${'['.repeat(depth)}NaN${']'.repeat(depth)}}}`;
}
const DEPTHS = [5_000, 200_000];

interface Issue {
  kind: string;
  index: number;
  message: string;
}

/**
 * Issue #17 "also fix": nesting deeper than the JSON parser's limit is one malformed entry
 * (skipped and reported, the rest read), not a failed dump; integers beyond 1e308 keep every
 * digit from a journal file, a Redis journal and SQLite attributes, as Optuna 3.1 reports.
 */
describe('deeply nested entries and integers beyond 1e308', function () {
  this.timeout(180_000);
  let dir: string;
  let redis: RedisServer;
  let journal: string;
  let db: string;
  /** Optuna's own dump of each storage, before anything was put into it. */
  const optunaView: Record<string, string> = {};

  before(async function () {
    this.timeout(300_000);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'osm-deepbig-'));
    redis = await RedisServer.start();
    journal = path.join(dir, 'big.log');
    db = path.join(dir, 'big.db');
    await Promise.all([
      runPython('big_ints.py', ['--journal', journal]),
      runPython('big_ints.py', ['--redis', redis.url, '--prefix', 'big']),
      runPython('big_ints.py', ['--sqlite', db]),
    ]);
    [optunaView.journal, optunaView.redis, optunaView.sqlite] = await Promise.all([
      runPython('optuna_dump.py', [journal]),
      runPython('optuna_dump.py', [redis.url, '--prefix', 'big', '--ignore-snapshot']),
      runPython('optuna_dump.py', [`sqlite:///${db}`]),
    ]);
  });

  after(async () => {
    await redis?.dispose();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  for (const [label, args] of [
    ['journal file', () => [journal]],
    ['Redis journal', () => [redis.url, '--prefix', 'big']],
    ['SQLite', () => [`sqlite:///${db}`]],
  ] as const) {
    it(`${label}: 10**400 and its kin keep every digit, equal to Optuna 3.1`, async () => {
      const r = await runCli(['dump', ...args()]);
      assert.equal(r.status, 0, r.stderr);
      const optuna =
        optunaView[label === 'journal file' ? 'journal' : label === 'SQLite' ? 'sqlite' : 'redis'];
      // The digits themselves, on both sides (not only after a parse that might round both).
      for (const text of [r.stdout, optuna]) {
        assert.ok(
          text.includes(`"big": ${BIG}`) || text.includes(`"big":${BIG}`),
          text.slice(0, 300),
        );
        assert.ok(text.includes(`-${BIG}`));
        assert.ok(text.includes(`1${'0'.repeat(309)}`));
        assert.ok(text.includes((2n ** 1100n).toString()));
        assert.ok(text.includes(`${BIG.slice(0, -1)}2`), 'trial attribute 10**400 + 2');
      }
      assert.ok(!r.stdout.includes('Infinity'), 'no integer became a float');
      assertSameDump(r.stdout, optuna, label);
    });
  }

  it('export to a journal file and to SQLite: Optuna reads the same digits back', async () => {
    for (const [from, to] of [
      [journal, path.join(dir, 'exported-from-log.log')],
      [`sqlite:///${db}`, path.join(dir, 'exported-from-db.log')],
      [journal, path.join(dir, 'exported-from-log.db')],
    ]) {
      const r = await runCli(['export', from, '--study', 'big', '--to', to]);
      assert.equal(r.status, 0, r.stderr);
      const back = await runPython('optuna_dump.py', [to]);
      assert.ok(back.includes(BIG) && back.includes(`-${BIG}`), `${to}: ${back.slice(0, 300)}`);
      const ours = await runCli(['dump', to]);
      assert.equal(ours.status, 0, ours.stderr);
      assertSameDump(ours.stdout, back, to);
    }
  });

  /** The journal file's lines with `entry` put before the second study's creation. */
  function withEntry(lines: string[], entry: string): { lines: string[]; index: number } {
    const index = lines.findIndex((l) => l.includes('"study_name": "after"'));
    assert.ok(index > 5, 'the second study is created after the first one’s entries');
    return { lines: [...lines.slice(0, index), entry, ...lines.slice(index)], index };
  }

  for (const depth of DEPTHS) {
    it(`journal file with an entry nested ${depth} levels: exit 2 naming it; --partial equals Optuna without it`, async () => {
      const good = fs.readFileSync(journal, 'utf8').trimEnd().split('\n');
      const { lines, index } = withEntry(good, deepEntry(depth));
      const file = path.join(dir, `deep-${depth}.log`);
      fs.writeFileSync(file, lines.join('\n') + '\n');
      assertOneDeepIssue(await runCli(['dump', file]), await runCli(['dump', file, '--partial']), {
        index,
        optuna: optunaView.journal,
      });
    });

    it(`Redis journal with an entry nested ${depth} levels: exit 2 naming it; --partial equals Optuna without it`, async () => {
      const c = redis.client();
      const prefix = `deep${depth}`;
      try {
        const n = Number(await c.get('big:log_number')) + 1;
        const keys = Array.from({ length: n }, (_, i) => `big:log:${i}`);
        const good = (await c.mget(...keys)) as string[];
        const { lines, index } = withEntry(good, deepEntry(depth));
        await c.mset(...lines.flatMap((l, i) => [`${prefix}:log:${i}`, l]));
        await c.set(`${prefix}:log_number`, String(lines.length - 1));
        assertOneDeepIssue(
          await runCli(['dump', redis.url, '--prefix', prefix, '--no-cache']),
          await runCli(['dump', redis.url, '--prefix', prefix, '--no-cache', '--partial']),
          { index, optuna: optunaView.redis },
        );
      } finally {
        c.disconnect();
      }
    });
  }

  it('SQLite attribute nested 200,000 levels: exit 2 naming the table, trial and key', async () => {
    const copy = path.join(dir, 'deep.db');
    fs.copyFileSync(db, copy);
    const w = openSqlite(copy);
    try {
      w.prepare(
        "UPDATE trial_user_attributes SET value_json = ? WHERE key = 'big' AND trial_id = (SELECT min(trial_id) FROM trial_user_attributes)",
      ).run(`${'['.repeat(200_000)}1${']'.repeat(200_000)}`);
    } finally {
      w.close();
    }
    const r = await runCli(['dump', copy]);
    assert.equal(r.status, 2, r.stderr);
    assert.equal(r.stdout, '');
    assert.match(
      r.stderr,
      /trial_user_attributes of trial \d+, key "big": value_json is not JSON Optuna can read \(Nested deeper than 1000 levels/,
    );
    assert.doesNotMatch(r.stderr, /call stack/);
  });
});

/** Without --partial: exit 2 naming the entry; with it: the rest, equal to Optuna's view. */
function assertOneDeepIssue(
  plain: { status: number; stdout: string; stderr: string },
  partial: { status: number; stdout: string; stderr: string },
  want: { index: number; optuna: string },
): void {
  assert.equal(plain.status, 2, plain.stderr);
  assert.equal(plain.stdout, '');
  assert.match(plain.stderr, /incomplete: 1 journal entry could not be read/);
  assert.match(
    plain.stderr,
    new RegExp(`malformed: entry ${want.index} is not valid JSON: Nested deeper than 1000 levels`),
  );
  assert.doesNotMatch(plain.stderr, /call stack/);
  assert.equal(partial.status, 0, partial.stderr);
  const issues = (JSON.parse(partial.stdout) as { issues: Issue[] }).issues;
  assert.deepEqual(
    issues.map((i) => [i.kind, i.index]),
    [['malformed', want.index]],
  );
  const n = assertSameDump(partial.stdout, want.optuna, 'the good entries');
  assert.deepEqual(n.studies, 2);
  assert.equal(n.trials, 5);
}
