// Runs the extension-host test suite in a REAL VS Code extension host without internet:
// code-server (installed by scripts/vscode/install-code-server.sh) serves the workbench,
// headless Debian Chromium (driven by playwright-core) connects to it so that an
// extension host starts, and the payload in the URL makes the host load this repository
// as the development extension and run .test-work/extension-tests/suite/index.js.
// See /work/shared/docs/vscode-offline-harness.md.
//
//   node test/extension/build.js && node -r tsx/cjs test/extension/runOffline.ts [options]
//   (npm run test:extension -- [options])
//
// Builds nothing itself: run `npm run build` (dist/extension.js) first.
//
// Options:
//   --server-main NODE_BINARY  run <code-server>/lib/vscode/out/server-main.js with the
//                              given node and --enable-smoke-test-driver instead of the
//                              code-server CLI (needed for VS Code newer than 1.100, e.g.
//                              code-server 4.139.x on Node 24)
//   --timeout MS               overall timeout for the test run (default 900000)
//   --grep PATTERN             mocha grep (same as OSM_TEST_GREP)
//   --keep                     keep the temp folder (server log, profiles) for inspection
// Environment:
//   OSM_CODE_SERVER     code-server install: the cache folder made by the install script,
//                       a code-server package folder, or node_modules/.bin/code-server
//                       (default ${OSM_CACHE:-~/.cache/optuna-storage-manager}/code-server-4.100.3)
//   OSM_TEST_WORKSPACE  folder to open (default: a fresh empty temp folder)
//   OSM_TEST_GREP       mocha grep
//   OSM_TEST_TIMEOUT_MS overall timeout (same as --timeout)
//   OSM_CODE_SERVER_NODE node that runs code-server (default: the node running this script)
//   OSM_CHROMIUM        browser executable (default /usr/bin/chromium)
//   OSM_KEEP_TMP=1      same as --keep
//   OSM_VERBOSE=1       forward every browser console line (default: extension-host
//                       lines, warnings and errors only)
//
// The exported helpers (startServer, launchBrowser, workbenchUrl, ...) are reused by
// test/extension/ui.ts.
import { spawn, ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as http from 'http';
import * as os from 'os';
import * as path from 'path';
import * as util from 'util';
import { randomBytes } from 'crypto';
import { chromium, BrowserContext, ConsoleMessage, Page } from 'playwright-core';
import { webviewFrame } from './screenshot';
import { sleep } from '../../src/core/abort';
import { freePort } from '../helpers/ports';

export const repoRoot = path.resolve(__dirname, '..', '..');
export const testsIndex = path.join(repoRoot, '.test-work', 'extension-tests', 'suite', 'index.js');
export const DEFAULT_CODE_SERVER_VERSION = '4.100.3';

const log = (msg: string): void => console.log(`[runOffline] ${msg}`);

// ---------------------------------------------------------------------------------------
// Cleanup registry: every server process group and browser is registered here and torn
// down on normal exit, errors, timeouts and signals.

type Cleanup = { name: string; fn: () => Promise<void>; syncKill?: () => void };
const cleanups: Cleanup[] = [];
let signalsInstalled = false;

export function registerCleanup(c: Cleanup): () => void {
  cleanups.push(c);
  installSignalHandlers();
  return () => {
    const i = cleanups.indexOf(c);
    if (i >= 0) cleanups.splice(i, 1);
  };
}

let cleanupRun: Promise<void> | undefined;
/** Exit code of the signal that interrupted the run, if any. */
let signalExitCode: number | undefined;

/** Runs all registered cleanups (newest first); concurrent callers share one run. */
export function runCleanups(): Promise<void> {
  cleanupRun ??= (async () => {
    while (cleanups.length) {
      const c = cleanups[cleanups.length - 1];
      try {
        await c.fn();
      } catch (e) {
        console.error(`[runOffline] cleanup of ${c.name} failed: ${String(e)}`);
      }
      const i = cleanups.indexOf(c);
      if (i >= 0) cleanups.splice(i, 1);
    }
  })().finally(() => (cleanupRun = undefined));
  return cleanupRun;
}

/** Cleans up everything, then exits (with the signal's code if a signal interrupted us). */
export async function exitAfterCleanup(code: number): Promise<never> {
  await runCleanups();
  process.exit(signalExitCode ?? code);
}

export function interruptedBySignal(): boolean {
  return signalExitCode !== undefined;
}

function installSignalHandlers(): void {
  if (signalsInstalled) return;
  signalsInstalled = true;
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => {
      console.error(`[runOffline] ${sig}: stopping server and browser`);
      signalExitCode = sig === 'SIGINT' ? 130 : sig === 'SIGTERM' ? 143 : 129;
      const hardStop = setTimeout(() => process.exit(signalExitCode), 15_000);
      hardStop.unref();
      void exitAfterCleanup(signalExitCode);
    });
  }
  // Last resort if something calls process.exit() with cleanups still pending.
  process.on('exit', () => {
    for (const c of cleanups) {
      try {
        c.syncKill?.();
      } catch {
        /* ignore */
      }
    }
  });
}

// ---------------------------------------------------------------------------------------
// code-server location

export interface CodeServerInstall {
  /** node_modules/code-server package folder */
  pkgDir: string;
  /** out/node/entry.js (what node_modules/.bin/code-server links to) */
  entry: string;
}

export function defaultCodeServerPath(): string {
  const cache =
    process.env.OSM_CACHE || path.join(os.homedir(), '.cache', 'optuna-storage-manager');
  return path.join(
    cache,
    `code-server-${process.env.OSM_CODE_SERVER_VERSION || DEFAULT_CODE_SERVER_VERSION}`,
  );
}

export function resolveCodeServer(
  p = process.env.OSM_CODE_SERVER || defaultCodeServerPath(),
): CodeServerInstall {
  const candidates: string[] = [];
  let abs = path.resolve(p);
  if (fs.existsSync(abs) && fs.statSync(abs).isFile()) abs = path.dirname(fs.realpathSync(abs));
  // cache folder (…/node_modules/code-server), package folder, or (via the resolved
  // .bin/code-server symlink) its out/node folder
  candidates.push(
    path.join(abs, 'node_modules', 'code-server'),
    abs,
    path.resolve(abs, '..', '..'),
  );
  for (const c of candidates) {
    const entry = path.join(c, 'out', 'node', 'entry.js');
    if (fs.existsSync(path.join(c, 'package.json')) && fs.existsSync(entry)) {
      return { pkgDir: c, entry };
    }
  }
  throw new Error(
    `code-server not found at ${p}.\n` +
      `  Install it with: npm run vscode:install   (scripts/vscode/install-code-server.sh)\n` +
      `  or point OSM_CODE_SERVER at an install.`,
  );
}

// ---------------------------------------------------------------------------------------
// Server

export interface ServerOptions {
  /** run lib/vscode/out/server-main.js with this node instead of the code-server CLI */
  serverMainNode?: string;
  /** folder to open; default an empty temp folder */
  workspace?: string;
  /** extra environment for the server (inherited by the extension host) */
  env?: NodeJS.ProcessEnv;
  /** extra user settings merged over the defaults */
  settings?: Record<string, unknown>;
  keepTmp?: boolean;
}

export interface StartedServer {
  kind: 'code-server' | 'server-main';
  port: number;
  baseUrl: string;
  pid: number;
  tmpDir: string;
  workspace: string;
  logFile: string;
  /** true once the server process has exited */
  exited: () => boolean;
  tailLog: (lines?: number) => string;
  stop: () => Promise<void>;
}

/**
 * OSM_TRUST=restricted opens the workspace untrusted (Restricted Mode) without a prompt, to
 * test what the extension allows there; the default trusts everything.
 */
const RESTRICTED = process.env.OSM_TRUST === 'restricted';

export const DEFAULT_SETTINGS: Record<string, unknown> = {
  'workbench.startupEditor': 'none',
  'extensions.autoUpdate': false,
  'extensions.autoCheckUpdates': false,
  'update.mode': 'none',
  'telemetry.telemetryLevel': 'off',
  'security.workspace.trust.enabled': RESTRICTED,
  ...(RESTRICTED
    ? {
        'security.workspace.trust.startupPrompt': 'never',
        'security.workspace.trust.banner': 'never',
        'security.workspace.trust.emptyWindow': false,
      }
    : {}),
  'workbench.enableExperiments': false,
  'workbench.tips.enabled': false,
  'git.enabled': false,
  // The tests' redis-servers listen on loopback ports: no "your application is available" toasts.
  'remote.autoForwardPorts': false,
};

function httpStatus(url: string): Promise<number> {
  return new Promise((resolve) => {
    const req = http.get(url, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', () => resolve(0));
    req.setTimeout(2000, () => {
      req.destroy();
      resolve(0);
    });
  });
}

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** SIGTERM the whole process group, wait up to 3 s, then SIGKILL it. */
export async function killProcessGroup(pgid: number): Promise<void> {
  if (!groupAlive(pgid)) return;
  try {
    process.kill(-pgid, 'SIGTERM');
  } catch {
    /* gone */
  }
  for (let i = 0; i < 30 && groupAlive(pgid); i++) await sleep(100);
  if (groupAlive(pgid)) {
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      /* gone */
    }
    for (let i = 0; i < 20 && groupAlive(pgid); i++) await sleep(100);
  }
}

export async function startServer(opts: ServerOptions = {}): Promise<StartedServer> {
  const install = resolveCodeServer();
  const tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'osm-ext-test-'));
  const keepTmp = opts.keepTmp ?? process.env.OSM_KEEP_TMP === '1';
  const userData = path.join(tmpDir, 'user-data');
  const serverData = path.join(tmpDir, 'server-data');
  const extensions = path.join(tmpDir, 'extensions');
  const config = path.join(tmpDir, 'config.yaml');
  const logFile = path.join(tmpDir, 'server.log');
  const workspace = path.resolve(
    opts.workspace || process.env.OSM_TEST_WORKSPACE || path.join(tmpDir, 'workspace'),
  );
  fs.mkdirSync(workspace, { recursive: true });
  fs.mkdirSync(extensions, { recursive: true });
  fs.writeFileSync(config, 'auth: none\n'); // must not be empty/null YAML; flags below win
  const settings = JSON.stringify({ ...DEFAULT_SETTINGS, ...(opts.settings ?? {}) }, null, 2);
  // code-server and server-main read user settings from <user-data-dir>/User; the plain
  // server may also use <server-data-dir>/data/User: seed both.
  for (const d of [path.join(userData, 'User'), path.join(serverData, 'data', 'User')]) {
    fs.mkdirSync(d, { recursive: true });
    fs.writeFileSync(path.join(d, 'settings.json'), settings);
  }

  const port = await freePort();
  let cmd: string;
  let args: string[];
  let kind: StartedServer['kind'];
  if (opts.serverMainNode) {
    kind = 'server-main';
    const serverMain = path.join(install.pkgDir, 'lib', 'vscode', 'out', 'server-main.js');
    if (!fs.existsSync(serverMain)) throw new Error(`${serverMain} not found`);
    cmd = opts.serverMainNode;
    args = [
      serverMain,
      '--host',
      '127.0.0.1',
      '--port',
      String(port),
      '--without-connection-token',
      '--accept-server-license-terms',
      '--enable-smoke-test-driver',
      '--disable-telemetry',
      ...(RESTRICTED ? [] : ['--disable-workspace-trust']),
      '--server-data-dir',
      serverData,
      '--user-data-dir',
      userData,
      '--extensions-dir',
      extensions,
    ];
  } else {
    kind = 'code-server';
    // code-server runs (and forks its extension host) on this node: 4.100.x needs Node 20.
    cmd = process.env.OSM_CODE_SERVER_NODE || process.execPath;
    args = [
      install.entry,
      '--bind-addr',
      `127.0.0.1:${port}`,
      '--auth',
      'none',
      '--disable-telemetry',
      '--disable-update-check',
      ...(RESTRICTED ? [] : ['--disable-workspace-trust']),
      '--user-data-dir',
      userData,
      '--extensions-dir',
      extensions,
      '--config',
      config,
    ];
  }

  const out = fs.openSync(logFile, 'a');
  // detached: the child calls setsid(2) before exec, i.e. it becomes the leader of a new
  // session and process group (pgid == pid) — same as running it under setsid(1), but
  // without setsid(1)'s fork when the caller already leads a group. The extension host
  // and pty host inherit that group, so `kill -- -pgid` stops all of them.
  const child: ChildProcess = spawn(cmd, args, {
    detached: true,
    stdio: ['ignore', out, out],
    env: {
      ...process.env,
      ...opts.env,
      // keep code-server from touching the user's real config/data
      XDG_CONFIG_HOME: path.join(tmpDir, 'xdg-config'),
      XDG_DATA_HOME: path.join(tmpDir, 'xdg-data'),
    },
  });
  fs.closeSync(out);
  const pid = child.pid;
  if (!pid) throw new Error(`cannot start ${cmd}`);
  let exited = false;
  let exitInfo = '';
  child.on('exit', (code, sig) => {
    exited = true;
    exitInfo = sig ? `signal ${sig}` : `code ${code}`;
  });

  const tailLog = (lines = 40): string => {
    try {
      return fs.readFileSync(logFile, 'utf8').split('\n').slice(-lines).join('\n');
    } catch {
      return '';
    }
  };
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      await killProcessGroup(pid);
      if (!keepTmp) fs.rmSync(tmpDir, { recursive: true, force: true });
      else log(`kept ${tmpDir}`);
      unregister();
    })());
  const unregister = registerCleanup({
    name: `${kind} (pgid ${pid})`,
    fn: stop,
    syncKill: () => {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    },
  });

  const baseUrl = `http://127.0.0.1:${port}`;
  const probe = kind === 'code-server' ? `${baseUrl}/healthz` : `${baseUrl}/version`;
  const t0 = Date.now();
  for (;;) {
    const st = await httpStatus(probe);
    if (st >= 200 && st < 500) break;
    if (exited) {
      const tail = tailLog();
      await stop();
      throw new Error(`${kind} exited (${exitInfo}) before becoming healthy. Log:\n${tail}`);
    }
    if (Date.now() - t0 > 60_000) {
      const tail = tailLog();
      await stop();
      throw new Error(`${kind} not healthy after 60 s at ${probe}. Log:\n${tail}`);
    }
    await sleep(150);
  }
  log(`${kind} (${install.pkgDir}) up at ${baseUrl} (pgid ${pid}, ${Date.now() - t0} ms)`);
  return {
    kind,
    port,
    baseUrl,
    pid,
    tmpDir,
    workspace,
    logFile,
    exited: () => exited,
    tailLog,
    stop,
  };
}

/** vscode-remote URI for an absolute path on the server's machine. */
export function remoteUri(server: StartedServer, absPath: string): string {
  return `vscode-remote://127.0.0.1:${server.port}${absPath.split(path.sep).map(encodeURIComponent).join('/')}`;
}

export function workbenchUrl(
  server: StartedServer,
  payload: Array<[string, string]>,
  folder = server.workspace,
): string {
  const q = [`folder=${encodeURIComponent(folder)}`];
  if (payload.length) q.push(`payload=${encodeURIComponent(JSON.stringify(payload))}`);
  return `${server.baseUrl}/?${q.join('&')}`;
}

// ---------------------------------------------------------------------------------------
// Browser

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
];

export interface StartedBrowser {
  context: BrowserContext;
  page: Page;
  close: () => Promise<void>;
}

export async function launchBrowser(
  profileDir: string,
  viewport: { width: number; height: number } = { width: 1400, height: 900 },
): Promise<StartedBrowser> {
  const executablePath = process.env.OSM_CHROMIUM || '/usr/bin/chromium';
  if (!fs.existsSync(executablePath)) {
    throw new Error(
      `Chromium not found at ${executablePath} (apt-get install chromium, or set OSM_CHROMIUM)`,
    );
  }
  // launchPersistentContext == a fresh --user-data-dir of our own (playwright forbids
  // passing --user-data-dir in args).
  const context = await chromium.launchPersistentContext(profileDir, {
    executablePath,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport,
    timeout: 60_000,
    // playwright would otherwise exit(130) on SIGINT itself, before our handler has
    // stopped the server; our handler closes the browser too
    handleSIGINT: false,
    handleSIGTERM: false,
    handleSIGHUP: false,
  });
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      await Promise.race([context.close().catch(() => undefined), sleep(10_000)]);
      unregister();
    })());
  const unregister = registerCleanup({ name: 'chromium', fn: close });
  const page = context.pages()[0] ?? (await context.newPage());
  return { context, page, close };
}

// Messages that are expected without internet (extension gallery lookups, GitHub auth)
// and say nothing about the extension under test. Shown with OSM_VERBOSE=1.
const OFFLINE_NOISE = [
  /open-vsx\.org|marketplace\.visualstudio\.com|gallery|vscode-unpkg|update\.code\.visualstudio\.com/i,
  /ERR_NAME_NOT_RESOLVED|ENOTFOUND/,
  /Failed to load resource: the server responded with a status of 404/,
  // plain VS Code server (--server-main) has no PWA manifest / service worker
  /manifest\.json failed, code 404|bad HTTP response code \(404\) was received when fetching the script|\[Service Worker\] registration/,
  /authentication provider 'github'/,
  /^\s*ERR\s*$/,
];

export function isOfflineNoise(text: string): boolean {
  return OFFLINE_NOISE.some((re) => re.test(text));
}

/** Formats the (type, args) the workbench passes to window.codeAutomationLog. */
export function formatAutomationLog(args: unknown): string {
  const list = Array.isArray(args) ? args : [args];
  return util
    .format(
      ...list.map((a) => (typeof a === 'string' || typeof a === 'number' ? a : JSON.stringify(a))),
    )
    .replace(/%c/g, '');
}

/** Forwards browser console lines; by default only extension-host lines and errors. */
export function forwardConsole(page: Page, verbose = process.env.OSM_VERBOSE === '1'): void {
  page.on('console', (msg: ConsoleMessage) => {
    const text = msg
      .text()
      .replace(/%c/g, '')
      .replace(/\s*color: [^;]+;?/g, '');
    const type = msg.type();
    const extHost = /\[Extension Host\]/.test(text);
    if (!verbose && ((!extHost && type !== 'error') || isOfflineNoise(text))) return;
    const prefix = extHost ? '[ext-host]' : `[browser:${type}]`;
    for (const line of text.replace(/\[Extension Host\]\s*/, '').split('\n')) {
      console.log(`${prefix} ${line}`);
    }
  });
  page.on('pageerror', (err) => console.log(`[browser:pageerror] ${err.message}`));
}

// ---------------------------------------------------------------------------------------
// Browser bridge: tests running inside the extension host cannot reach the browser, yet a
// webview's DOM lives only there. This loopback endpoint (random port and token, passed to the
// extension host as OSM_BROWSER_BRIDGE) lets them read a webview's document and act on it with
// real input events (click, type, keys, mouse drags). (Modal dialogs cannot be tested here:
// VS Code refuses to show them while extension tests run; test/extension/pageUi.ts clicks one.)

export type BridgeRequest =
  | { target: 'webview'; title: string; action: 'eval'; expression: string }
  | {
      target: 'webview';
      title: string;
      action: 'click' | 'fill' | 'press';
      selector: string;
      text?: string;
      key?: string;
    }
  | {
      target: 'webview';
      title: string;
      action: 'drag';
      selector: string;
      /** Fractions of the element's box, [x, y]. */
      from: [number, number];
      to: [number, number];
    };

export interface BrowserBridge {
  url: string;
  setPage(page: Page): void;
}

export async function startBrowserBridge(): Promise<BrowserBridge> {
  const token = randomBytes(16).toString('hex');
  let page: Page | undefined;
  const handle = async (r: BridgeRequest): Promise<unknown> => {
    if (!page) throw new Error('no browser page yet');
    const frame = await webviewFrame(page, r.title);
    if (!frame) throw new Error(`no webview titled ${JSON.stringify(r.title)}`);
    switch (r.action) {
      case 'eval':
        return frame.evaluate(r.expression);
      case 'click':
        await frame.locator(r.selector).first().click();
        return true;
      case 'fill':
        await frame
          .locator(r.selector)
          .first()
          .fill(r.text ?? '');
        return true;
      case 'press':
        await frame
          .locator(r.selector)
          .first()
          .press(r.key ?? 'Enter');
        return true;
      case 'drag': {
        const box = await frame.locator(r.selector).first().boundingBox();
        if (!box) throw new Error(`${r.selector} is not visible`);
        const at = ([fx, fy]: [number, number]) =>
          [box.x + fx * box.width, box.y + fy * box.height] as const;
        const [x0, y0] = at(r.from);
        const [x1, y1] = at(r.to);
        await page.mouse.move(x0, y0);
        await page.mouse.down();
        await page.mouse.move(x1, y1, { steps: 12 });
        await page.mouse.up();
        return true;
      }
    }
  };
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      if (req.method !== 'POST' || req.url !== `/${token}`) {
        res.writeHead(404).end();
        return;
      }
      handle(JSON.parse(body) as BridgeRequest).then(
        (value) =>
          res
            .writeHead(200, { 'content-type': 'application/json' })
            .end(JSON.stringify({ ok: true, value: value ?? null })),
        (e: Error) =>
          res
            .writeHead(200, { 'content-type': 'application/json' })
            .end(JSON.stringify({ ok: false, error: e.message })),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  registerCleanup({
    name: 'browser bridge',
    fn: () => new Promise<void>((r) => server.close(() => r())),
  });
  return { url: `http://127.0.0.1:${port}/${token}`, setPage: (p) => (page = p) };
}

// ---------------------------------------------------------------------------------------
// Test run

interface Args {
  serverMainNode?: string;
  timeoutMs: number;
  grep?: string;
  keep: boolean;
}

function parseArgs(argv: string[]): Args {
  const a: Args = {
    timeoutMs: Number(process.env.OSM_TEST_TIMEOUT_MS) || 900_000,
    grep: process.env.OSM_TEST_GREP || undefined,
    keep: process.env.OSM_KEEP_TMP === '1',
  };
  for (let i = 0; i < argv.length; i++) {
    const v = argv[i];
    const next = (): string => {
      const n = argv[++i];
      if (n === undefined) throw new Error(`${v} needs a value`);
      return n;
    };
    if (v === '--server-main') a.serverMainNode = path.resolve(next());
    else if (v === '--timeout') a.timeoutMs = Number(next());
    else if (v === '--grep') a.grep = next();
    else if (v === '--keep') a.keep = true;
    else if (v === '-h' || v === '--help') {
      console.log(
        fs
          .readFileSync(__filename, 'utf8')
          .split('\n')
          .filter((l) => l.startsWith('//'))
          .slice(0, 34)
          .join('\n'),
      );
      process.exit(0);
    } else throw new Error(`unknown option ${v}`);
  }
  return a;
}

interface Results {
  stats: { tests: number; passes: number; failures: number; pending: number; durationMs: number };
  tests: Array<{
    fullTitle: string;
    state: string;
    durationMs?: number;
    error?: { message: string; stack?: string };
  }>;
  fatal?: string;
  finishedAt?: string;
  vscodeVersion?: string;
  node?: string;
}

function printResults(file: string): Results | undefined {
  if (!fs.existsSync(file)) {
    log(`no results file (${file}): the test index did not run or could not write it`);
    return undefined;
  }
  const r = JSON.parse(fs.readFileSync(file, 'utf8')) as Results;
  console.log('');
  console.log(
    `Extension-host test results (VS Code ${r.vscodeVersion ?? '?'}, extension host node ${r.node ?? '?'}):`,
  );
  for (const t of r.tests) {
    const mark = t.state === 'passed' ? 'ok  ' : t.state === 'failed' ? 'FAIL' : 'skip';
    console.log(
      `  ${mark} ${t.fullTitle}${t.durationMs !== undefined ? ` (${t.durationMs} ms)` : ''}`,
    );
    if (t.error) {
      for (const l of (t.error.stack || t.error.message).split('\n').slice(0, 12))
        console.log(`         ${l}`);
    }
  }
  if (r.fatal) console.log(`  FATAL ${r.fatal}`);
  if (!r.finishedAt)
    console.log('  (incomplete: the run did not finish; results up to the last finished test)');
  console.log(
    `  ${r.stats.passes} passing, ${r.stats.failures} failing, ${r.stats.pending} pending (${r.stats.durationMs} ms)`,
  );
  return r;
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  const t0 = Date.now();
  if (!fs.existsSync(path.join(repoRoot, 'dist', 'extension.js'))) {
    throw new Error('dist/extension.js missing: run `npm run build` first');
  }
  if (!fs.existsSync(testsIndex)) {
    throw new Error(
      `${path.relative(repoRoot, testsIndex)} missing: run \`node test/extension/build.js\` first`,
    );
  }

  const resultsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'osm-ext-results-'));
  const resultsFile = path.join(resultsDir, 'results.json');
  registerCleanup({
    name: 'results dir',
    fn: async () => fs.rmSync(resultsDir, { recursive: true, force: true }),
  });

  const bridge = await startBrowserBridge();
  const server = await startServer({
    serverMainNode: args.serverMainNode,
    keepTmp: args.keep,
    env: {
      OSM_BROWSER_BRIDGE: bridge.url,
      OSM_TEST_RESULTS: resultsFile,
      OSM_TEST_GREP: args.grep ?? '',
      OSM_EXTENSION_TESTS: '1',
    },
  });
  const browser = await launchBrowser(path.join(server.tmpDir, 'chromium-profile'));
  const { page } = browser;
  bridge.setPage(page);
  const verbose = process.env.OSM_VERBOSE === '1';
  forwardConsole(page, verbose);

  let resolveExit!: (code: number) => void;
  const exitCode = new Promise<number>((r) => (resolveExit = r));
  await page.exposeFunction('codeAutomationExit', (code: number) => {
    log(`workbench reported test exit code ${code}`);
    resolveExit(Number(code));
  });
  await page.exposeFunction('codeAutomationLog', (type: string, args: unknown) => {
    const text = formatAutomationLog(args);
    if (!verbose && isOfflineNoise(text)) return;
    for (const line of text.split('\n')) console.log(`[workbench:${type}] ${line}`);
  });
  page.on('crash', () => {
    log('browser page crashed');
    resolveExit(3);
  });

  const url = workbenchUrl(server, [
    ['extensionDevelopmentPath', remoteUri(server, repoRoot)],
    ['extensionTestsPath', remoteUri(server, testsIndex)],
  ]);
  log(`opening workbench (workspace ${server.workspace})`);
  await page.goto(url, { waitUntil: 'domcontentloaded', timeout: 60_000 });

  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>(
    (r) => (timer = setTimeout(() => r('timeout'), args.timeoutMs)),
  );
  const serverDied = (async (): Promise<'server-exit'> => {
    while (!server.exited()) await sleep(500);
    return 'server-exit';
  })();
  const outcome = await Promise.race([exitCode, timeout, serverDied]);
  clearTimeout(timer);

  if (interruptedBySignal()) return 1; // the signal handler is cleaning up and exits
  let code: number;
  if (outcome === 'timeout') {
    log(
      `TIMEOUT: no test result from the extension host after ${Math.round(args.timeoutMs / 1000)} s`,
    );
    log('server log tail:\n' + server.tailLog(30));
    code = 124;
  } else if (outcome === 'server-exit') {
    log('server exited before the tests finished; log tail:\n' + server.tailLog(40));
    code = 2;
  } else {
    code = outcome;
  }

  const r = printResults(resultsFile);
  if (code === 0 && (!r || r.stats.failures > 0 || r.fatal)) code = 1;
  if (code !== 0 && outcome !== 'timeout' && (!r || r.fatal))
    log('server log tail:\n' + server.tailLog(15));
  await browser.close();
  await server.stop();
  log(
    `${code === 0 ? 'PASSED' : `FAILED (exit ${code})`} in ${((Date.now() - t0) / 1000).toFixed(1)} s`,
  );
  return code;
}

if (require.main === module) {
  main()
    .then((code) => exitAfterCleanup(code))
    .catch((e) => {
      if (!interruptedBySignal())
        console.error(`[runOffline] ERROR: ${e instanceof Error ? e.message : String(e)}`);
      return exitAfterCleanup(1);
    });
}
