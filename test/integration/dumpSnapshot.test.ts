import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { main } from '../../src/cli';
import { runCli } from '../helpers/cli';
import { JournalRecords } from '../../src/core/optuna/journal/records';
import { appendJournalRecords } from '../../src/core/optuna/journal/redisLog';
import { runPython } from '../helpers/python';
import { RedisServer } from '../helpers/redisServer';

/**
 * `dump` writes the document in pieces while its reader takes them. A journal that gains
 * entries meanwhile (optimizers keep running) must still be dumped as one snapshot: exactly
 * what a dump taken before the entries were appended prints.
 */
describe('dump of a journal that gains entries while it is written', function () {
  this.timeout(120_000);
  let redis: RedisServer;
  let dir: string;
  let journal: string;
  const trials = 1500; // ~1 MB of dump: many pieces

  before(async () => {
    redis = await RedisServer.start();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'osm-dump-snap-'));
    journal = path.join(dir, 'journal.log');
    await runPython('generate_big.py', [
      '--redis',
      redis.url,
      '--prefix',
      'big',
      '--journal',
      journal,
      '--trials',
      String(trials),
      '--no-verify',
    ]);
  });
  after(async () => {
    await redis?.dispose();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  // New records while the dump is written: a trial of the dumped study, and a new study.
  const records = new JournalRecords();
  const late = () => [
    records.createTrial(0),
    records.setTrialStateValues(trials, 'COMPLETE', [0.5]),
    records.createStudy('late'),
  ];

  const cases: Array<[string, () => string[], () => Promise<void>]> = [
    [
      'Redis',
      () => [redis.url, '--prefix', 'big', '--no-cache'],
      async () => {
        const c = redis.client();
        await appendJournalRecords(c, 'big', late());
        c.disconnect();
      },
    ],
    [
      'journal file',
      () => [journal],
      async () => fs.appendFileSync(journal, late().join('\n') + '\n'),
    ],
  ];

  for (const [label, args, append] of cases) {
    it(`${label}: the streamed document is the journal as it was when the dump began`, async () => {
      const before = await runCli(['dump', ...args()]);
      assert.equal(before.status, 0, before.stderr);

      let out = '';
      let pieces = 0;
      const status = await main(['dump', ...args()], {
        // The reader takes the first piece only after the journal has grown.
        stdout: async (text) => {
          if (pieces++ === 0) await append();
          out += text;
        },
        stderr: (t) => assert.fail(t),
        signal: new AbortController().signal,
        env: {},
      });
      assert.equal(status, 0);
      assert.ok(pieces > 5, `the dump was written in ${pieces} pieces: not streamed`);
      assert.equal(out, before.stdout);

      const after = await runCli(['dump', ...args()]);
      const doc = JSON.parse(after.stdout) as {
        studies: Array<{ study_name: string; trials: unknown[] }>;
      };
      assert.deepEqual(
        doc.studies.map((s) => [s.study_name, s.trials.length]),
        [
          ['big', trials + 1],
          ['late', 0],
        ],
        'the appended entries are in the journal',
      );
    });
  }
});
