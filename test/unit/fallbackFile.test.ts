import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describeFallback, resolveFallbackFile } from '../../src/core/storage/fallbackFile';

describe('SQLite fallback file discovery', () => {
  let a: string;
  let b: string;
  beforeEach(() => {
    a = fs.mkdtempSync(path.join(os.tmpdir(), 'osm-fa-'));
    b = fs.mkdtempSync(path.join(os.tmpdir(), 'osm-fb-'));
  });
  afterEach(() => {
    fs.rmSync(a, { recursive: true, force: true });
    fs.rmSync(b, { recursive: true, force: true });
  });

  it('an explicit path wins, resolved against the base folder', () => {
    fs.writeFileSync(path.join(a, 'optuna_fallback.db'), '');
    assert.deepEqual(resolveFallbackFile('x/other.db', [a], b), {
      kind: 'setting',
      path: path.join(b, 'x/other.db'),
    });
  });

  it('finds optuna_fallback.db in the first folder that has it', () => {
    fs.writeFileSync(path.join(b, 'optuna_fallback.db'), '');
    const f = resolveFallbackFile(undefined, [a, b], a);
    assert.deepEqual(f, { kind: 'found', path: path.join(b, 'optuna_fallback.db'), folder: b });
    assert.match(describeFallback(f), /optuna_fallback\.db found in the workspace folder/);
  });

  it('without the file, watches the first folder for it (the optimizers create it)', () => {
    const f = resolveFallbackFile(undefined, [a, b], a);
    assert.deepEqual(f, { kind: 'expected', path: path.join(a, 'optuna_fallback.db'), folder: a });
    assert.match(describeFallback(f), /not there yet/);
  });

  it('without a workspace folder there is none, and it says why', () => {
    const f = resolveFallbackFile(undefined, [], a);
    assert.equal(f.kind, 'none');
    assert.match(describeFallback(f), /^none \(no workspace folder/);
  });
});
