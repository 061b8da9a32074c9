import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { main } from '../../src/cli';
import { runCli } from '../helpers/cli';
import { runPython } from '../helpers/python';
import { RedisServer } from '../helpers/redisServer';

/** A password as base64 secrets and hand-typed ones look: '/', '@', '#' and ':' inside. */
const PASSWORD = 'S3c/r@t#Pw:9';
const WRONG = 'Wr0/ng@pa#ss';

/** Every 4-character piece of a secret: none may appear in anything the CLI prints. */
function assertNoPiece(text: string, secret: string, what: string): void {
  for (let i = 0; i + 4 <= secret.length; i++) {
    const piece = secret.slice(i, i + 4);
    assert.ok(!text.includes(piece), `${what} shows "${piece}" of the password:\n${text}`);
  }
}

describe('passwords holding / @ # never leak through the CLI', function () {
  this.timeout(120_000);
  let server: RedisServer;
  let dir: string;
  let journal: string;
  before(async () => {
    server = await RedisServer.start({ password: PASSWORD });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'osm-redact-'));
    journal = path.join(dir, 'study.log');
    await runPython('generate.py', ['--journal', journal, '--sequential', '--workers', '1']);
  });
  after(async () => {
    await server?.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const urls = (): Record<string, [string, string]> => ({
    right: [`redis://:${PASSWORD}@127.0.0.1:${server.port}`, PASSWORD],
    'user and right': [`redis://default:${PASSWORD}@127.0.0.1:${server.port}/0`, PASSWORD],
    wrong: [`redis://:${WRONG}@127.0.0.1:${server.port}`, WRONG],
    'typo redis:/': [`redis:/:${PASSWORD}@127.0.0.1:${server.port}`, PASSWORD],
    'bad port': [`redis://:${PASSWORD}@127.0.0.1:99999`, PASSWORD],
    'space in host': [`redis://:${PASSWORD}@127.0 .0.1:${server.port}`, PASSWORD],
    'lone word': [`redis://${PASSWORD}@127.0.0.1:${server.port}`, PASSWORD],
  });

  const verbs = (url: string, n: number): string[][] => [
    ['dump', url, '--no-cache'],
    ['studies', url, '--no-cache'],
    ['studies', url, '--json', '--no-cache'],
    ['doctor', '--redis', url],
    ['doctor', '--redis', url, '--json'],
    ['monitor', '--redis', url],
    ['monitor', '--redis', url, '--json'],
    ['backup', 'create', '--redis', url, '--dir', path.join(dir, `backups-${n}`)],
    ['export', url, '--study', 'single-minimize', '--to', path.join(dir, `out-${n}.log`)],
    ['import', journal, '--redis', url, '--prefix', `imp${n}`, '--study', 'single-minimize'],
    [
      'import',
      journal,
      '--redis',
      url,
      '--prefix',
      `imp${n}j`,
      '--study',
      'single-minimize',
      '--json',
    ],
    ['suite', '--redis', url, '--only', 'basic-connection', '--connect-attempts', '2'],
  ];

  it('every verb, with the password right, wrong, mistyped and in unparsable URLs', async () => {
    let n = 0;
    const statuses: string[] = [];
    for (const [label, [url, secret]] of Object.entries(urls())) {
      for (const argv of verbs(url, n++)) {
        const r = await runCli(argv);
        assertNoPiece(r.stdout + r.stderr, secret, `${argv[0]} (${label})`);
        statuses.push(`${label} ${argv[0]} ${r.status}`);
      }
      // watch runs until a signal: give it time to connect and print its first state.
      const controller = new AbortController();
      let out = '';
      setTimeout(() => controller.abort(), 1500);
      await main(['watch', '--redis', url, '--sqlite', path.join(dir, 'none.db')], {
        stdout: (t) => void (out += t),
        stderr: (t) => void (out += t),
        signal: controller.signal,
        env: {},
      });
      assertNoPiece(out, secret, `watch (${label})`);
    }
    // The right password in the URL works through the verbs that only read.
    for (const v of ['dump', 'studies', 'doctor', 'monitor'])
      assert.ok(statuses.includes(`right ${v} 0`) || v === 'doctor', statuses.join('\n'));
  });

  it('the password from the environment is not printed either', async () => {
    const url = `redis://127.0.0.1:${server.port}`;
    for (const argv of verbs(url, 100)) {
      const r = await runCli(argv, { OPTUNA_STORAGE_REDIS_PASSWORD: PASSWORD });
      assertNoPiece(r.stdout + r.stderr, PASSWORD, argv[0]);
    }
  });
});
