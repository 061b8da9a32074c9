import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathInsideFolder } from '../../src/core/pathInside';

describe('paths a workspace setting names stay inside the workspace', () => {
  let root: string;
  let ws: string;
  before(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'osm-inside-'));
    ws = path.join(root, 'ws');
    fs.mkdirSync(path.join(ws, 'sub'), { recursive: true });
    fs.mkdirSync(path.join(root, 'outside'));
    fs.symlinkSync(path.join(root, 'outside'), path.join(ws, 'link'));
    fs.symlinkSync(path.join(root, 'nowhere'), path.join(ws, 'dangling'));
  });
  after(() => fs.rmSync(root, { recursive: true, force: true }));

  it('accepts relative paths inside, existing or not', () => {
    assert.equal(
      pathInsideFolder(ws, '.optuna-storage/reports'),
      path.join(ws, '.optuna-storage/reports'),
    );
    assert.equal(pathInsideFolder(ws, 'sub'), path.join(ws, 'sub'));
    assert.equal(pathInsideFolder(ws, path.join(ws, 'sub/x')), path.join(ws, 'sub/x'));
  });

  it('refuses .., absolute paths elsewhere, and symlinks out of the folder', () => {
    for (const p of [
      '..',
      '../outside',
      'sub/../../outside',
      '/etc',
      '/tmp/x',
      'link',
      'link/new/dir',
      'dangling/x',
    ])
      assert.equal(pathInsideFolder(ws, p), undefined, p);
  });
});
