import { type ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { freePort } from './ports';

/** One real redis-sentinel on a free loopback port. */
export interface Sentinel {
  port: number;
  process: ChildProcess;
  stop(): void;
}

/**
 * A redis-sentinel naming the server on `masterPort` as master "mymaster" (quorum 1), its
 * config file in `dir` (the sentinel rewrites it). It may take a moment to listen.
 */
export async function startSentinel(dir: string, masterPort: number): Promise<Sentinel> {
  const port = await freePort();
  const conf = path.join(dir, `sentinel-${port}.conf`);
  fs.writeFileSync(
    conf,
    [
      `port ${port}`,
      'bind 127.0.0.1',
      `dir ${dir}`,
      `sentinel monitor mymaster 127.0.0.1 ${masterPort} 1`,
      '',
    ].join('\n'),
  );
  const child = spawn('redis-sentinel', [conf], { stdio: 'ignore' });
  return { port, process: child, stop: () => void child.kill() };
}
