// Deployments made by a test, every path inside a temp dir, and how to stop them: the server
// is daemonized (not a child of the test), so it is stopped through the protocol.
import * as path from 'node:path';
import Redis from 'ioredis';

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
