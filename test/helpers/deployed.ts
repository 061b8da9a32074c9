// Deployments made by a test, every path inside a temp dir, and how to stop them: the server
// is daemonized (not a child of the test), so it is stopped through the protocol.
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import Redis from 'ioredis';
import { runCli } from './cli';
import { runPython } from './python';

/** The deploy options of one deployment, all inside `dir`. */
export function deployArgs(dir: string, port: number): string[] {
  return [
    '--data-dir',
    path.join(dir, 'data'),
    '--port',
    String(port),
    '--target',
    path.join(dir, 'etc', 'redis.conf'),
    '--log-file',
    path.join(dir, 'log', 'redis.log'),
    '--pid-file',
    path.join(dir, 'run', 'redis.pid'),
  ];
}

/** A client that fails at once instead of retrying (the test decides what a failure means). */
export async function client(port: number, password?: string): Promise<Redis> {
  const c = new Redis({
    port,
    host: '127.0.0.1',
    password,
    lazyConnect: true,
    enableReadyCheck: false,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  c.on('error', () => undefined);
  await c.connect();
  return c;
}

/** Stops a Redis that the test deployed or started (never one it did not create). */
export async function stopDeployed(port: number, password?: string): Promise<void> {
  let c: Redis;
  try {
    c = await client(port, password);
  } catch {
    return; // not running
  }
  await c.call('SHUTDOWN', 'NOSAVE').catch(() => undefined);
  c.disconnect();
}

/** Deploys the shipped config into `dir` on `port` with the CLI; resolves with the config path. */
export async function deploy(
  dir: string,
  port: number,
  opts: { env?: NodeJS.ProcessEnv; args?: string[] } = {},
): Promise<string> {
  const r = await runCli(
    ['deploy', ...deployArgs(dir, port), ...(opts.args ?? []), '--yes'],
    opts.env,
  );
  assert.equal(r.status, 0, r.stderr + r.stdout);
  return path.join(dir, 'etc', 'redis.conf');
}

/** A deployment holding the fixture scenario written by real Optuna, and Optuna's view of it. */
export async function deployWithOptunaJournal(
  dir: string,
  port: number,
  prefix: string,
): Promise<{ url: string; target: string; optunaView: string }> {
  const target = await deploy(dir, port);
  const url = `redis://127.0.0.1:${port}`;
  await runPython('generate.py', ['--redis', url, '--prefix', prefix]);
  return { url, target, optunaView: await runPython('optuna_dump.py', [url, '--prefix', prefix]) };
}

/** The pid of the server answering on the port (to tell a restart from the same process). */
export async function serverPid(port: number, password?: string): Promise<string> {
  const c = await client(port, password);
  try {
    return /process_id:(\d+)/.exec(await c.info('server'))![1];
  } finally {
    c.disconnect();
  }
}

/** Stops a test's deployed server as a container stop would (SHUTDOWN SAVE) and waits until it is gone. */
export async function shutDown(port: number, password?: string): Promise<void> {
  const c = await client(port, password);
  await c.call('SHUTDOWN', 'SAVE').catch(() => undefined);
  c.disconnect();
  for (let i = 0; i < 100; i++) {
    try {
      (await client(port, password)).disconnect();
    } catch {
      return;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`Redis on ${port} did not stop`);
}
