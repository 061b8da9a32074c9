import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const SCRIPT = path.resolve(__dirname, '..', '..', 'scripts', 'demo-settings.js');

/** The settings `npm start` gives its demo (scripts/demo-settings.js, run as start.sh runs it). */
describe('npm start demo settings', () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'osm-demo-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));
  const run = (kind: string, file: string, env: NodeJS.ProcessEnv = {}) => {
    execFileSync(process.execPath, [SCRIPT, kind, file], { env: { ...process.env, ...env } });
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  };

  it('turns off code-server port-forward toasts, keeping what the user set', () => {
    const file = path.join(dir, 'settings.json');
    fs.writeFileSync(
      file,
      JSON.stringify({ 'editor.fontSize': 15, 'remote.autoForwardPorts': true }),
    );
    const s = run('user', file);
    assert.equal(s['remote.autoForwardPorts'], false);
    assert.equal(s['editor.fontSize'], 15);
    assert.equal(s['telemetry.telemetryLevel'], 'off');
  });

  it('the SQLite file is the store, or OSM_DEMO_REDIS with the file as its fallback', () => {
    const file = path.join(dir, 'ws.json');
    const sqliteOnly = run('workspace', file, { OSM_DEMO_REDIS: '' });
    assert.deepEqual(sqliteOnly, {
      'optunaStorage.redis.url': '',
      'optunaStorage.sqlite.path': 'optuna.db',
    });
    const withRedis = run('workspace', file, { OSM_DEMO_REDIS: 'redis://127.0.0.1:6390' });
    assert.equal(withRedis['optunaStorage.redis.url'], 'redis://127.0.0.1:6390');
    assert.equal(withRedis['optunaStorage.sqlite.path'], 'optuna.db');
  });
});
