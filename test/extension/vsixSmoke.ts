// Proves the packaged VSIX works where users run it, on this offline machine:
//
//  1. node level: the VSIX unpacked as VS Code would install it; `dist/cli.js dump` of a real
//     Optuna SQLite file (test/fixtures/generate.py) under Node 20, 22 and 24 with the
//     shipped better-sqlite3 binding of each ABI (no fallback allowed), and under Node 22/24
//     with node:sqlite: every output identical. Without a binding for the running ABI,
//     Node 24 still reads through node:sqlite and Node 20 fails with a readable message. The
//     Python companion (python/enhanced_redis_storage) imports from the unpacked VSIX and
//     writes trials (to its SQLite fallback: no Redis there).
//  2. in a real VS Code, for each target: code-server 4.100.3 (VS Code 1.100, Node 20) and
//     code-server 4.139.1's own VS Code server (1.139, Node 24, server-main.js): the VSIX is
//     installed into a fresh extensions dir with the server's own CLI, a workbench opens a
//     workspace whose settings name the SQLite file (no Redis) in headless Chromium, and
//     the check is what a person would see — the extension listed as activated without
//     error in "Developer: Show Running Extensions", the Studies view listing the file's
//     studies — plus the extension host process having mapped the VSIX's
//     native/abi-<its ABI>/better_sqlite3.node, and the "Optuna Storage" log.
//
//   npm run test:vsix [-- --vsix FILE] [-- --target 4.100.3|4.139.1] [-- --node-only]
//   (node -r tsx/cjs test/extension/vsixSmoke.ts …)
//
// Without --vsix it packages first (scripts/package.sh: seconds once the native builds are
// cached). Missing code-server installs and Node runtimes are installed on the way
// (scripts/vscode/install-code-server.sh, scripts/native/node-runtime.sh).
// Screenshots: .test-work/vsix-smoke/<target>-*.png. Exit status 0 only if all passed.
import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { PYTHON, runPython } from '../helpers/python';
import {
  exitAfterCleanup,
  forwardConsole,
  interruptedBySignal,
  launchBrowser,
  registerCleanup,
  repoRoot,
  startServer,
  type StartedServer,
  workbenchUrl,
} from './runOffline';
import {
  clickActivityBar,
  listRowTexts,
  runCommand,
  saveScreenshot,
  settle,
  waitFor,
  waitForWorkbench,
} from './screenshot';

const EXT_ID = 'optuna-storage-tools.optuna-storage-manager';
const CACHE = process.env.OSM_CACHE || path.join(os.homedir(), '.cache', 'optuna-storage-manager');
const SHOTS = path.join(repoRoot, '.test-work', 'vsix-smoke');

const log = (msg: string): void => console.log(`[vsix] ${msg}`);

export interface Target {
  version: string;
  nodeMajor: string;
  /** run lib/vscode/out/server-main.js (VS Code > 1.100 needs it for our flags) */
  serverMain: boolean;
}
const TARGETS: Target[] = [
  { version: '4.100.3', nodeMajor: '20', serverMain: false },
  { version: '4.139.1', nodeMajor: '24', serverMain: true },
];

const results: Array<{ what: string; ok: boolean; detail?: string }> = [];
function check(ok: boolean, what: string, detail?: string): boolean {
  results.push({ what, ok, detail });
  log(`${ok ? 'ok  ' : 'FAIL'} ${what}${detail ? `: ${detail}` : ''}`);
  return ok;
}

/** Node runtime of a major (or the newest known release with `newest`): its bin/node. */
function nodeRuntime(major: string, newest = false): string {
  const args = [
    path.join(repoRoot, 'scripts', 'native', 'node-runtime.sh'),
    ...(newest ? ['--newest'] : []),
    major,
  ];
  const dir = execFileSync('bash', args, {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  }).trim();
  return path.join(dir, 'bin', 'node');
}

function ensureCodeServer(t: Target): string {
  const dir = path.join(CACHE, `code-server-${t.version}`);
  if (fs.existsSync(path.join(dir, '.osm-install-ok'))) return dir;
  const node =
    t.nodeMajor === process.versions.node.split('.')[0]
      ? process.execPath
      : nodeRuntime(t.nodeMajor, true);
  const nodeDir = path.dirname(path.dirname(node));
  log(`installing code-server ${t.version} (Node ${t.nodeMajor}) — a few minutes, once`);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PATH: `${path.dirname(node)}:${process.env.PATH}`,
  };
  if (fs.existsSync(path.join(nodeDir, 'include', 'node', 'node.h')))
    env.npm_config_nodedir = nodeDir;
  const r = spawnSync(
    'bash',
    [path.join(repoRoot, 'scripts', 'vscode', 'install-code-server.sh'), t.version],
    { stdio: 'inherit', env },
  );
  if (r.status !== 0) throw new Error(`installing code-server ${t.version} failed`);
  return dir;
}

export function packageVsix(): string {
  log('packaging (scripts/package.sh)');
  const r = spawnSync('bash', [path.join(repoRoot, 'scripts', 'package.sh')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  if (r.status !== 0) throw new Error('scripts/package.sh failed');
  return r.stdout.trim().split('\n').pop()!;
}

function studyNames(dumpJson: string): string[] {
  return (JSON.parse(dumpJson) as { studies: Array<{ study_name: string }> }).studies.map(
    (s) => s.study_name,
  );
}

// ---------------------------------------------------------------------------------------
// 1. node level

function nodeLevel(vsix: string, db: string, work: string): string[] {
  const t0 = Date.now();
  const unpacked = path.join(work, 'unpacked');
  fs.mkdirSync(unpacked, { recursive: true });
  execFileSync('unzip', ['-q', vsix, 'extension/*', '-d', unpacked]);
  const ext = path.join(unpacked, 'extension');
  const cli = path.join(ext, 'dist', 'cli.js');
  const run = (node: string, env: NodeJS.ProcessEnv) =>
    spawnSync(node, [cli, 'dump', db], {
      encoding: 'utf8',
      env: { ...process.env, ...env },
      maxBuffer: 1 << 28,
    });

  const outputs: Array<[string, string]> = [];
  for (const major of ['20', '22', '24']) {
    for (const node of [...new Set([nodeRuntime(major), nodeRuntime(major, true)])]) {
      const v = execFileSync(node, ['-p', 'process.version + " ABI " + process.versions.modules'], {
        encoding: 'utf8',
      }).trim();
      const r = run(node, { OSM_SQLITE_DRIVER: 'better-sqlite3' });
      if (
        check(
          r.status === 0 && r.stdout.length > 0,
          `Node ${v}: dump with the VSIX's native binding`,
          r.status === 0
            ? `${r.stdout.length} bytes`
            : `exit ${r.status}: ${(r.stderr || '').split('\n').slice(0, 3).join(' ')}`,
        )
      ) {
        outputs.push([`${v} better-sqlite3`, r.stdout]);
      }
      if (major !== '20') {
        const n = run(node, { OSM_SQLITE_DRIVER: 'node:sqlite', NODE_NO_WARNINGS: '1' });
        if (
          check(
            n.status === 0 && n.stdout.length > 0,
            `Node ${v}: dump through node:sqlite`,
            n.status === 0 ? undefined : `exit ${n.status}: ${n.stderr.split('\n')[0]}`,
          )
        ) {
          outputs.push([`${v} node:sqlite`, n.stdout]);
        }
      }
    }
  }
  const [refName, ref] = outputs[0] ?? ['', ''];
  const differing = outputs.filter(([, o]) => o !== ref).map(([n]) => n);
  check(
    outputs.length > 0 && differing.length === 0,
    'all dumps identical',
    differing.length
      ? `${differing.join(', ')} differ from ${refName}`
      : `${outputs.length} dumps, ${studyNames(ref).length} studies`,
  );

  // A Node with no binding for its ABI (as a future Node would be): simulated by removing one.
  const abi137 = path.join(ext, 'native', 'abi-137');
  fs.renameSync(abi137, abi137 + '.off');
  const n24 = run(nodeRuntime('24', true), { NODE_NO_WARNINGS: '1' });
  check(
    n24.status === 0 && n24.stdout === ref,
    'Node 24 without its binding falls back to node:sqlite',
    n24.status === 0 ? undefined : n24.stderr.split('\n')[0],
  );
  fs.renameSync(abi137 + '.off', abi137);
  const abi115 = path.join(ext, 'native', 'abi-115');
  fs.renameSync(abi115, abi115 + '.off');
  const n20 = run(nodeRuntime('20'), {});
  const msg = n20.stderr.trim();
  check(
    n20.status === 2 &&
      /No SQLite driver works in this Node\.js v20\.\d+\.\d+ \(ABI 115, Node 20\)/.test(msg) &&
      !/^\s+at /m.test(msg),
    'Node 20 without its binding: a readable error, no crash',
    msg.slice(0, 200),
  );
  fs.renameSync(abi115 + '.off', abi115);

  // The Python companion as shipped: imported from the VSIX's python/ folder (as runs get it on
  // PYTHONPATH) and writing trials; Redis is unreachable here, so they land in its SQLite file.
  const companion = path.join(ext, 'python');
  const py = spawnSync(
    PYTHON,
    [
      '-c',
      [
        'import os, socket, sys, tempfile, optuna',
        'optuna.logging.set_verbosity(optuna.logging.ERROR)',
        'import enhanced_redis_storage as e',
        's = socket.socket(); s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]; s.close()',
        'st = e.EnhancedRedisStorage("redis://127.0.0.1:%d" % port, os.path.join(tempfile.mkdtemp(), "fb.db"))',
        'study = optuna.create_study(storage=st, study_name="vsix")',
        'study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=3)',
        'print(os.path.dirname(os.path.dirname(e.__file__)), st.current_storage, len(study.trials))',
        'st.close()',
      ].join('\n'),
    ],
    { encoding: 'utf8', env: { ...process.env, PYTHONPATH: companion, PYTHONWARNINGS: 'ignore' } },
  );
  check(
    py.status === 0 && py.stdout.trim() === `${companion} sqlite 3`,
    'the Python companion from the VSIX imports and keeps writing without Redis',
    py.status === 0 ? py.stdout.trim() : py.stderr.trim().split('\n').slice(-3).join(' '),
  );
  log(`node-level checks took ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return studyNames(ref);
}

// ---------------------------------------------------------------------------------------
// 2. in VS Code

export function installVsix(
  t: Target,
  csDir: string,
  server: StartedServer,
  vsix: string,
  node: string,
): void {
  const pkg = path.join(csDir, 'node_modules', 'code-server');
  const extDir = path.join(server.tmpDir, 'extensions');
  const args = t.serverMain
    ? [
        path.join(pkg, 'lib', 'vscode', 'out', 'server-main.js'),
        '--install-extension',
        vsix,
        '--extensions-dir',
        extDir,
        '--server-data-dir',
        path.join(server.tmpDir, 'server-data'),
        '--user-data-dir',
        path.join(server.tmpDir, 'user-data'),
        '--accept-server-license-terms',
      ]
    : [
        path.join(pkg, 'out', 'node', 'entry.js'),
        '--install-extension',
        vsix,
        '--extensions-dir',
        extDir,
        '--user-data-dir',
        path.join(server.tmpDir, 'user-data'),
        '--config',
        path.join(server.tmpDir, 'config.yaml'),
      ];
  const r = spawnSync(node, args, {
    encoding: 'utf8',
    env: {
      ...process.env,
      XDG_CONFIG_HOME: path.join(server.tmpDir, 'xdg-config'),
      XDG_DATA_HOME: path.join(server.tmpDir, 'xdg-data'),
    },
  });
  if (r.status !== 0 || !/successfully installed/.test(r.stdout))
    throw new Error(`--install-extension failed: ${r.stdout}${r.stderr}`);
}

/** Processes of a process group whose memory maps hold a file matching `re`: pid -> mapped path. */
function mappedIn(pgid: number, re: RegExp): Map<number, string> {
  const found = new Map<number, string>();
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      const pgrp = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
      if (pgrp !== pgid) continue;
      const hit = fs
        .readFileSync(`/proc/${d}/maps`, 'utf8')
        .split('\n')
        .find((l) => re.test(l));
      if (hit) found.set(Number(d), hit.slice(hit.indexOf('/')));
    } catch {
      /* gone or not ours */
    }
  }
  return found;
}

function findFiles(dir: string, re: RegExp, out: string[] = []): string[] {
  for (const e of fs.existsSync(dir) ? fs.readdirSync(dir, { withFileTypes: true }) : []) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) findFiles(p, re, out);
    else if (re.test(e.name)) out.push(p);
  }
  return out;
}

async function inVsCode(t: Target, vsix: string, db: string, studies: string[]): Promise<void> {
  const t0 = Date.now();
  const label = `code-server ${t.version}`;
  const csDir = ensureCodeServer(t);
  const node =
    t.nodeMajor === process.versions.node.split('.')[0]
      ? process.execPath
      : nodeRuntime(t.nodeMajor, true);
  process.env.OSM_CODE_SERVER = csDir;
  process.env.OSM_CODE_SERVER_NODE = node;

  const workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'osm-vsix-ws-'));
  registerCleanup({
    name: 'workspace',
    fn: async () => fs.rmSync(workspace, { recursive: true, force: true }),
  });
  fs.copyFileSync(db, path.join(workspace, 'optuna.db'));
  fs.mkdirSync(path.join(workspace, '.vscode'));
  fs.writeFileSync(
    path.join(workspace, '.vscode', 'settings.json'),
    JSON.stringify(
      { 'optunaStorage.redis.url': '', 'optunaStorage.sqlite.path': 'optuna.db' },
      null,
      2,
    ),
  );

  const server = await startServer({ serverMainNode: t.serverMain ? node : undefined, workspace });
  // Installed after the server started but before any window connects: the server scans
  // the extensions dir when the first extension host starts.
  installVsix(t, csDir, server, vsix, node);
  const installed = path.join(
    server.tmpDir,
    'extensions',
    `${EXT_ID}-${JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')).version}`,
  );
  check(
    fs.existsSync(path.join(installed, 'native')),
    `${label}: VSIX installed with the server's CLI`,
    installed,
  );

  const browser = await launchBrowser(path.join(server.tmpDir, 'chromium-profile'));
  const { page } = browser;
  forwardConsole(page);
  await page.goto(workbenchUrl(server, []), { waitUntil: 'domcontentloaded', timeout: 60_000 });
  await waitForWorkbench(page);
  log(`${label}: workbench up after ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  const shot = (name: string) => saveScreenshot(page, path.join(SHOTS, `${t.version}-${name}.png`));

  try {
    await clickActivityBar(page, 'Optuna Storage', 30_000);
    const want = studies.slice(0, 3);
    const rows = await waitFor(
      'the studies of optuna.db in the Studies view',
      async () => {
        const r = await listRowTexts(page, '.part.sidebar');
        return want.every((s) => r.some((x) => x.startsWith(s))) ? r : undefined;
      },
      60_000,
    ).catch(async (e) => {
      await shot('studies-failed');
      throw e;
    });
    check(
      true,
      `${label}: the Studies view lists the SQLite file's studies`,
      rows.slice(0, 6).join(' | '),
    );
    await shot('studies');

    // The extension host: which process mapped which binding.
    const maps = mappedIn(server.pid, /better_sqlite3\.node/);
    const expectAbi = execFileSync(node, ['-p', 'process.versions.modules'], {
      encoding: 'utf8',
    }).trim();
    const mapped = [...maps.values()];
    check(
      mapped.length > 0 &&
        mapped.every(
          (m) =>
            m.startsWith(installed) && m.endsWith(`native/abi-${expectAbi}/better_sqlite3.node`),
        ),
      `${label}: the extension host (Node ${execFileSync(node, ['--version'], { encoding: 'utf8' }).trim()}) loaded the VSIX's binding for ABI ${expectAbi}`,
      mapped.length
        ? [...maps].map(([pid, m]) => `pid ${pid}: ${path.relative(server.tmpDir, m)}`).join(', ')
        : 'no process maps better_sqlite3.node',
    );

    await runCommand(page, 'Developer: Show Running Extensions', 20_000);
    const row = page.locator('.monaco-list-row', { hasText: 'Optuna Storage Manager' }).first();
    await row.waitFor({ state: 'visible', timeout: 20_000 });
    await settle(page, 500);
    const text = (await row.innerText()).replace(/\s+/g, ' ').trim();
    const errorMarks = await row.locator('.codicon-error, .error').count();
    check(
      // The row reads e.g. "Optuna Storage Manager 0.1.0 127.0.0.1:41715 Activation: 120ms".
      /\b(?:Startup )?Activation: \d+ms\b/.test(text) &&
        errorMarks === 0 &&
        !/error|failed/i.test(text),
      `${label}: Running Extensions shows the extension activated without error`,
      text,
    );
    await shot('running-extensions');

    // The extension's own log (LogOutputChannel "Optuna Storage") from the server's log dir.
    const logs = findFiles(server.tmpDir, /^\d*-?Optuna Storage\.log$/);
    const logText = logs.map((f) => fs.readFileSync(f, 'utf8')).join('\n');
    check(
      /activated in \d+ ms \(VS Code/.test(logText) && !/\[error\]/.test(logText),
      `${label}: "Optuna Storage" log shows activation, no errors`,
      logText
        .split('\n')
        .filter((l) => /activated|store:|state:|error|warn/.test(l))
        .slice(0, 4)
        .join(' / ') || `no log among ${logs.length} files`,
    );
    // The extension host's own log ("remoteexthost.log" on a server) names every activation.
    const hostLines = findFiles(server.tmpDir, /^(remote)?exthost\.log$/)
      .flatMap((f) => fs.readFileSync(f, 'utf8').split('\n'))
      .filter((l) => l.includes(EXT_ID));
    const activation = hostLines.find((l) => /_doActivateExtension/.test(l));
    const failed = hostLines.filter((l) => /fail|error/i.test(l));
    check(
      !!activation && failed.length === 0,
      `${label}: the extension host log shows the activation and no error`,
      failed[0] ?? activation?.replace(/^.*#_doActivateExtension /, '') ?? 'no activation line',
    );
  } finally {
    await browser.close();
    await server.stop();
    log(`${label}: done in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }
}

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  const opt = (name: string): string | undefined => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const t0 = Date.now();
  const vsix = path.resolve(opt('--vsix') ?? packageVsix());
  if (!fs.existsSync(vsix)) throw new Error(`${vsix} not found`);
  log(`VSIX ${vsix} (${Math.round(fs.statSync(vsix).size / 1024)} KiB)`);
  const only = opt('--target');
  const targets = TARGETS.filter((t) => !only || t.version === only);
  if (targets.length === 0)
    throw new Error(
      `unknown --target ${only} (known: ${TARGETS.map((t) => t.version).join(', ')})`,
    );

  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'osm-vsix-'));
  registerCleanup({
    name: 'work dir',
    fn: async () => fs.rmSync(work, { recursive: true, force: true }),
  });
  const db = path.join(work, 'optuna.db');
  await runPython('generate.py', ['--sqlite', db]);
  const studies = nodeLevel(vsix, db, work);
  if (!argv.includes('--node-only')) {
    fs.mkdirSync(SHOTS, { recursive: true });
    for (const t of targets) {
      if (interruptedBySignal()) break;
      try {
        await inVsCode(t, vsix, db, studies);
      } catch (e) {
        check(false, `code-server ${t.version}`, e instanceof Error ? e.message : String(e));
      }
    }
  }
  const failed = results.filter((r) => !r.ok);
  log(
    `${results.length - failed.length} passed, ${failed.length} failed in ${((Date.now() - t0) / 1000).toFixed(1)} s`,
  );
  for (const f of failed) log(`  FAIL ${f.what}${f.detail ? `: ${f.detail}` : ''}`);
  console.log(`  ${results.length - failed.length} passing\n  ${failed.length} failing`); // counted by scripts/test.sh
  return failed.length ? 1 : 0;
}

if (require.main === module) {
  main()
    .then((code) => exitAfterCleanup(code))
    .catch((e) => {
      if (!interruptedBySignal())
        console.error(`[vsix] ERROR: ${e instanceof Error ? e.message : String(e)}`);
      return exitAfterCleanup(1);
    });
}
