import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { ESLint } from 'eslint';

const ROOT = path.resolve(__dirname, '..', '..');

/** The restricted-import messages ESLint (the project's config) gives `code` at `file`. */
async function refusals(file: string, code: string): Promise<string[]> {
  const eslint = new ESLint({ cwd: ROOT });
  const [r] = await eslint.lintText(code, { filePath: path.join(ROOT, file) });
  return r.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

/**
 * The rooms' layers (eslint.config.mjs, README "How it is built"): npm run lint refuses an
 * import from a room above, so no two rooms can import each other again.
 */
describe('room rules (npm run lint)', function () {
  this.timeout(60_000);

  it('refuses core/redis importing core/storage, and core/optuna importing core/redis', async () => {
    const up = await refusals(
      'src/core/redis/probe.ts',
      "import { RedisJournalReader } from '../storage/redisJournalReader';\nexport const x = RedisJournalReader;\n",
    );
    assert.equal(up.length, 1, up.join('\n'));
    assert.match(up[0], /src\/core\/redis sits below core\/storage/);
    const optuna = await refusals(
      'src/core/optuna/journal/probe.ts',
      "import { connectOnce } from '../../redis/connect';\nexport const x = connectOnce;\n",
    );
    assert.equal(optuna.length, 1, optuna.join('\n'));
  });

  it('refuses vscode in src/core and the CLI; allows a room importing one below it', async () => {
    assert.equal(
      (
        await refusals(
          'src/core/storage/probe.ts',
          "import * as vscode from 'vscode';\nexport const x = vscode;\n",
        )
      ).length,
      1,
    );
    assert.equal(
      (
        await refusals(
          'src/cli/probe.ts',
          "import * as vscode from 'vscode';\nexport const x = vscode;\n",
        )
      ).length,
      1,
    );
    assert.deepEqual(
      await refusals(
        'src/core/storage/probe.ts',
        "import { connectOnce } from '../redis/connect';\nexport const x = connectOnce;\n",
      ),
      [],
    );
  });
});
