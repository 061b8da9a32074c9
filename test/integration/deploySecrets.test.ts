import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runCli } from '../helpers/cli';
import { client, deployArgs, serverPid, stopDeployed } from '../helpers/deployed';
import { freePort } from '../helpers/ports';
import { RedisServer } from '../helpers/redisServer';

const CLI = path.resolve(__dirname, '../../dist/cli.js');
const PASSWORD = 'old-Secret/42@pw';
const ENV = { OPTUNA_STORAGE_REDIS_PASSWORD: PASSWORD };

interface Run {
  status: number | null;
  out: string;
}

/**
 * The bundled CLI as a user runs it. `tty`: inside a pseudo-terminal (util-linux `script`),
 * typing `input`; otherwise with stdin a pipe, as from a script or CI.
 */
function runBundled(args: string[], opts: { tty?: boolean; input?: string } = {}): Promise<Run> {
  return new Promise((resolve) => {
    const argv = [process.execPath, CLI, ...args];
    const child = opts.tty
      ? spawn('script', ['-qec', argv.map(shellQuote).join(' '), '/dev/null'], {
          env: { ...process.env, ...ENV, XDG_CACHE_HOME: os.tmpdir() },
        })
      : spawn(argv[0], argv.slice(1), {
          env: { ...process.env, ...ENV, XDG_CACHE_HOME: os.tmpdir() },
        });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.stdin.end(opts.input ?? '');
    child.on('exit', (status) => resolve({ status, out }));
  });
}

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Whether the server on `port` answers a client that has no password. */
async function open(port: number): Promise<boolean> {
  const c = await client(port);
  try {
    return (await c.ping()) === 'PONG';
  } catch (e) {
    assert.match((e as Error).message, /NOAUTH/);
    return false;
  } finally {
    c.disconnect();
  }
}

/**
 * Issue #17 "also fix": deploy must not remove `requirepass` from a server that has one
 * unless told so explicitly, and must not write its password config through a planted link.
 * Real redis-servers on free loopback ports, every path in a temp folder.
 */
describe('deploy keeps passwords where they belong', function () {
  this.timeout(180_000);
  let dir: string;
  const cleanups: Array<() => Promise<void>> = [];

  beforeEach(() => {
    assert.ok(fs.existsSync(CLI), 'dist/cli.js is missing: npm test builds it first');
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'osm-deploy-secrets-'));
  });
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('refuses to remove the password of a running server unless told --remove-password; asks on a terminal', async () => {
    const old = await RedisServer.start({ password: PASSWORD });
    const port = old.port;
    cleanups.push(() => old.dispose());
    cleanups.push(() => stopDeployed(port, PASSWORD));
    cleanups.push(() => stopDeployed(port));
    const c = old.client();
    await c.set('study-data', 'kept');
    c.disconnect();
    const pid = await serverPid(port, PASSWORD);
    const target = path.join(dir, 'etc', 'redis.conf');
    const untouched = async (label: string) => {
      assert.equal(await serverPid(port, PASSWORD), pid, `${label}: the same server runs`);
      assert.equal(await open(port), false, `${label}: it still requires its password`);
      assert.ok(!fs.existsSync(target), `${label}: no config was written`);
    };

    // The plan names it.
    const dry = await runBundled(['deploy', ...deployArgs(dir, port), '--dry-run']);
    assert.equal(dry.status, 0, dry.out);
    assert.match(dry.out, /REMOVE THE PASSWORD: the Redis running on port \d+ requires one/);
    await untouched('--dry-run');

    // From a script: --yes is not enough, nothing changes, and the way out is said.
    const refused = await runBundled(['deploy', ...deployArgs(dir, port), '--yes']);
    assert.equal(refused.status, 2, refused.out);
    assert.match(refused.out, /has a password, and the new config has none/);
    assert.match(refused.out, /--password-env/);
    assert.match(refused.out, /Nothing changed: .*pass --remove-password to go ahead/);
    await untouched('no terminal');

    // On a terminal it asks; "n" (or just Enter) changes nothing.
    for (const input of ['n\n', '\n']) {
      const no = await runBundled(['deploy', ...deployArgs(dir, port), '--yes'], {
        tty: true,
        input,
      });
      assert.equal(no.status, 2, no.out);
      assert.match(no.out, /Remove the password anyway\? \[y\/N\]/);
      assert.match(no.out, /Nothing changed: not confirmed/);
      await untouched(`answer ${JSON.stringify(input)}`);
    }

    // "y" on the terminal removes it, as asked; the data comes along.
    const yes = await runBundled(['deploy', ...deployArgs(dir, port), '--yes'], {
      tty: true,
      input: 'y\n',
    });
    assert.equal(yes.status, 0, yes.out);
    assert.match(yes.out, /Redis answers PONG/);
    assert.equal(await open(port), true, 'deployed without a password, as confirmed');
    const d = await client(port);
    assert.equal(await d.get('study-data'), 'kept');
    d.disconnect();
    for (const r of [dry, refused, yes]) assert.ok(!r.out.includes(PASSWORD), 'password leaked');

    // A password set again with --password-env is kept by default, and --remove-password
    // removes it without a terminal.
    const again = await runBundled(['deploy', ...deployArgs(dir, port), '--password-env', '--yes']);
    assert.equal(again.status, 0, again.out);
    assert.equal(await open(port), false);
    const plain = await runBundled(['deploy', ...deployArgs(dir, port), '--yes']);
    assert.equal(plain.status, 2, plain.out);
    assert.equal(await open(port), false, 'still protected');
    const removed = await runBundled([
      'deploy',
      ...deployArgs(dir, port),
      '--yes',
      '--remove-password',
    ]);
    assert.equal(removed.status, 0, removed.out);
    assert.equal(await open(port), true);
    const e = await client(port);
    assert.equal(await e.get('study-data'), 'kept');
    e.disconnect();
  });

  it('writes the password config as a new 0600 file, never through links planted at predictable names', async () => {
    const port = await freePort();
    cleanups.push(() => stopDeployed(port, PASSWORD));
    const etc = path.join(dir, 'etc');
    const attacker = path.join(dir, 'attacker');
    fs.mkdirSync(etc);
    fs.mkdirSync(attacker);
    const target = path.join(etc, 'redis.conf');
    // Links to a file the attacker can read (it exists, mode 0644) and to one that does not
    // exist yet (a write through the link would create it), at every name a writer might
    // use next to the target: the target itself, and the usual temp and backup names
    // (this process's pid included: the CLI runs in-process here).
    const loot = path.join(attacker, 'loot');
    fs.writeFileSync(loot, 'attacker file\n', { mode: 0o644 });
    const planted: Record<string, string> = {
      [target]: loot,
      [`${target}.tmp`]: path.join(attacker, 'tmp'),
      [`${target}.tmp-${process.pid}`]: path.join(attacker, 'tmp-pid'),
      [`${target}.new`]: path.join(attacker, 'new'),
      [`${target}~`]: path.join(attacker, 'tilde'),
      [`${target}.swp`]: loot,
    };
    for (const [at, to] of Object.entries(planted)) fs.symlinkSync(to, at);

    // A permissive umask must not widen the mode either.
    const umask = process.umask(0);
    let r;
    try {
      r = await runCli(['deploy', ...deployArgs(dir, port), '--password-env', '--yes'], ENV);
    } finally {
      process.umask(umask);
    }
    assert.equal(r.status, 0, r.stderr + r.stdout);

    const st = fs.lstatSync(target);
    assert.ok(st.isFile(), 'the target is a regular file now, not the planted link');
    assert.equal(st.mode & 0o777, 0o600);
    assert.match(fs.readFileSync(target, 'utf8'), /^requirepass /m);
    assert.ok(fs.readFileSync(target, 'utf8').includes(PASSWORD));
    // Nothing reached the attacker's side.
    assert.deepEqual(fs.readdirSync(attacker), ['loot']);
    assert.equal(fs.readFileSync(loot, 'utf8'), 'attacker file\n');
    assert.equal(fs.statSync(loot).mode & 0o777, 0o644);
    for (const [at, to] of Object.entries(planted))
      if (at !== target) assert.equal(fs.readlinkSync(at), to, `${at} left alone`);
    // Only the new config, the planted links and the backup of what the target showed.
    const extra = fs
      .readdirSync(etc)
      .filter((f) => !Object.keys(planted).includes(path.join(etc, f)));
    assert.equal(extra.length, 1, extra.join(', '));
    assert.match(extra[0], /^redis\.conf\.bak-/);
    assert.ok(!fs.readFileSync(path.join(etc, extra[0]), 'utf8').includes(PASSWORD));
    // The server it started has the password.
    assert.equal(await open(port), false);
  });

  it('a config line holding a password that Redis refuses is quoted without it (start, deploy, backup restore)', async () => {
    const port = await freePort();
    cleanups.push(() => stopDeployed(port, PASSWORD));
    const r = await runCli(['deploy', ...deployArgs(dir, port), '--password-env', '--yes'], ENV);
    assert.equal(r.status, 0, r.stderr + r.stdout);
    const target = path.join(dir, 'etc', 'redis.conf');
    const backups = path.join(dir, 'backups');
    const made = await runCli(
      ['backup', 'create', '--redis', `redis://127.0.0.1:${port}`, '--dir', backups],
      ENV,
    );
    assert.equal(made.status, 0, made.stderr + made.stdout);
    await stopDeployed(port, PASSWORD);
    const good = fs.readFileSync(target, 'utf8');
    // Redis's FATAL CONFIG FILE ERROR quotes the line it refuses: a password with one word too
    // many, a masterauth, an ACL user line with a password and a hash.
    const broken = {
      requirepass: good.replace(/^(requirepass .*)$/m, '$1 extra'),
      masterauth: good.replace(/^(requirepass .*)$/m, `$1\nmasterauth "${PASSWORD}" extra`),
      user: good.replace(
        /^(requirepass .*)$/m,
        `$1\nuser alice on >${PASSWORD} #${'ab'.repeat(32)} ~* +@all bogus-rule`,
      ),
    };
    for (const [what, text] of Object.entries(broken)) {
      fs.writeFileSync(target, text, { mode: 0o600 });
      const runs = {
        start: await runCli(['start', '--target', target]),
        deploy: await runCli(
          ['deploy', ...deployArgs(dir, port), '--config', target, '--dry-run'],
          ENV,
        ),
        restore: await runCli(
          ['backup', 'restore', '--dir', backups, '--target', target, '--yes'],
          ENV,
        ),
      };
      for (const [verb, run] of Object.entries(runs)) {
        const out = run.stdout + run.stderr;
        assert.equal(run.status, 2, `${verb} (${what}): ${out}`);
        assert.match(
          out,
          /refuses the config at line \d+: '(requirepass|masterauth|user)[^']*\*\*\*/,
          `${verb} (${what}): ${out}`,
        );
        for (const piece of [PASSWORD.slice(0, 6), PASSWORD.slice(-6), 'abababab'])
          assert.ok(!out.includes(piece), `${verb} (${what}) shows "${piece}":\n${out}`);
      }
    }
    fs.writeFileSync(target, good, { mode: 0o600 });
  });
});
