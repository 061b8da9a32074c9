import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { main } from '../../src/cli';

/** docs/cli.md is the CLI's reference for users: every verb the CLI has is documented there. */
describe('docs/cli.md', () => {
  it('documents every verb of optuna-storage --help', async () => {
    let help = '';
    const status = await main(['--help'], {
      stdout: (t) => void (help += t),
      stderr: () => undefined,
      signal: new AbortController().signal,
      env: {},
    });
    assert.equal(status, 0);
    const verbs = help
      .slice(help.indexOf('Commands:'))
      .split('\n')
      .slice(1)
      .map((l) => /^ {2}(\w+)\s/.exec(l)?.[1])
      .filter((v): v is string => v !== undefined);
    assert.ok(verbs.length >= 10, `verbs found: ${verbs.join(', ')}`);
    const doc = fs.readFileSync(path.resolve(__dirname, '..', '..', 'docs', 'cli.md'), 'utf8');
    const missing = verbs.filter((v) => !new RegExp(`^### \`${v}[ \`]`, 'm').test(doc));
    assert.deepEqual(missing, [], 'verbs without a "### `verb …`" section in docs/cli.md');
  });
});
