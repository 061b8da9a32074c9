import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { setDirectives } from './configRender';
import { freeLoopbackPort, validateWithScratchServer } from './redisProcess';

/**
 * Runs a config text with a real redis-server on a scratch port and in a scratch directory,
 * and stops it again: the real `dir` may not exist yet (Redis applies `dir` while it reads the
 * file), and the real port may be in use. Throws ConfigValidationError with Redis's own
 * explanation (line and directive) when the config is refused.
 */
export async function checkOnScratchPort(
  text: string,
  opts: { binary: string; host: string; password?: string },
): Promise<void> {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'osm-deploy-check-'));
  try {
    const scratchPort = await freeLoopbackPort();
    const scratchConfig = path.join(scratch, 'redis.conf');
    fs.writeFileSync(
      scratchConfig,
      setDirectives(text, [
        ['port', [String(scratchPort)]],
        ['dir', [scratch]],
        ['logfile', ['']],
        ['pidfile', [path.join(scratch, 'redis.pid')]],
        ['daemonize', ['no']],
      ]),
      { mode: 0o600, flag: 'wx' },
    );
    await validateWithScratchServer({
      binary: opts.binary,
      configPath: scratchConfig,
      cwd: scratch,
      host: opts.host,
      port: scratchPort,
      password: opts.password,
    });
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}
