// Runs inside a real VS Code extension host (see test/extension/suite/index.ts).
import * as assert from 'assert';
import * as vscode from 'vscode';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const manifest = require('../../../package.json') as {
  publisher: string;
  name: string;
  version: string;
};

const extensionId = `${manifest.publisher}.${manifest.name}`;

describe('extension activation', () => {
  it('runs inside a VS Code extension host', () => {
    assert.ok(vscode.version, 'vscode.version is empty');
    assert.strictEqual(typeof vscode.extensions.getExtension, 'function');
  });

  it(`finds ${extensionId} as a development extension`, () => {
    const ext = vscode.extensions.getExtension(extensionId);
    assert.ok(ext, `extension ${extensionId} is not installed in this host`);
    assert.strictEqual(ext.packageJSON.name, manifest.name);
    assert.strictEqual(ext.packageJSON.version, manifest.version);
  });

  it('activates without error', async () => {
    const ext = vscode.extensions.getExtension(extensionId);
    assert.ok(ext);
    // activationEvents is onStartupFinished, so it may already be active; activate()
    // is idempotent and rejects if activate() threw.
    await ext.activate();
    assert.strictEqual(ext.isActive, true, 'extension did not become active');
    // activate() returns its services for these tests.
    assert.ok(ext.exports && typeof ext.exports === 'object');
  });
});
