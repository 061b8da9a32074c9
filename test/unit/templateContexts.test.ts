import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fillTemplate, parseTemplate, runLabel } from '../../src/core/runs/template';
import { shellQuote } from '../../src/core/runs/shell';
import { checkValues } from '../../src/core/runs/params';

/**
 * Issue #17 "also fix": contexts of a run template where a value quoted as one shell word is
 * still executed. Each is shown to execute on real bash when filled anyway, and is refused
 * by parseTemplate; the contexts where a bare placeholder is safe pass the value through.
 */
describe('run templates: placeholders only where quoting makes a value inert', () => {
  let dir: string;
  let canary: string;
  let value: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'osm-tpl-'));
    canary = path.join(dir, 'pwned');
    // What an attacker-chosen value does in arithmetic and [[ ]]: a[$(cmd)] runs cmd.
    value = `a[$(touch ${canary})]`;
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  const bash = (script: string): string =>
    execFileSync('/bin/bash', ['-c', script], {
      cwd: dir,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
  /** The template filled as if it were allowed: each value shell-quoted at the placeholder. */
  const fillAnyway = (t: string, v: string) => t.replace(/(?<!\$)\{x\}/g, shellQuote(v));

  const dangerous: Array<[string, RegExp, string?]> = [
    ['echo `echo {x}`', /inside backticks/, 'a\\\\b'],
    ['echo $(( {x} + 1 ))', /inside an arithmetic/],
    ['(( n = {x} )); true', /inside an arithmetic/],
    ['[[ {x} -eq 1 ]]; true', /inside \[\[ \]\]/],
    ['cat <<EOF\n{x}\nEOF', /in a heredoc body/, `$(touch CANARY)`],
    ['eval echo {x}', /argument of eval/, `$(touch CANARY)`],
    ['bash -c {x}', /bash -c/, `touch CANARY`],
    ['nice -n 5 sh -ec "$0" {x}', /run by sh -c/, 'touch CANARY'],
  ];
  for (const [template, refusal, attack] of dangerous) {
    it(`refuses ${JSON.stringify(template)}, which runs a quoted value on bash`, () => {
      const v = attack ? attack.replace('CANARY', canary) : value;
      fs.rmSync(canary, { force: true });
      let out = '';
      try {
        out = bash(fillAnyway(template, v));
      } catch {
        // the command may fail; what matters is whether the canary was touched
      }
      // The value ran as code, or (backticks) did not arrive as written.
      assert.ok(fs.existsSync(canary) || !out.includes(v), `the context kept ${v} inert: ${out}`);
      assert.throws(() => parseTemplate(template), refusal);
    });
  }

  const safe = [
    'printf %s {x}',
    'printf %s --opt={x}',
    'cat <<<{x}',
    "cat <<'EOF'\nliteral $HOME\nEOF\nprintf %s {x}",
    'X=1 printf %s {x}',
    'printf %s {x} # eval bash -c',
    'echo ok; printf %s {x}',
  ];
  for (const template of safe) {
    it(`allows ${JSON.stringify(template)}: the value arrives as one inert word`, () => {
      const t = parseTemplate(template);
      fs.rmSync(canary, { force: true });
      const out = bash(fillTemplate(t, { x: value }));
      assert.ok(!fs.existsSync(canary), 'nothing ran');
      assert.ok(out.includes(value), out);
    });
  }

  it('values with C1 controls, line separators or bidi overrides are refused; labels drop them', () => {
    const spec = [{ name: 'x', type: 'string' as const }];
    for (const bad of ['a\u0085b', 'a\u009bb', 'a\u2028b', 'safe\u202eexe.sh', 'x\u2066y\u2069'])
      assert.ok(checkValues(spec, { x: bad }).errors.x, JSON.stringify(bad));
    assert.equal(runLabel('{x} run', { x: 'tpe\u202e\u2066multi\u009b' }), 'tpe multi run');
  });
});
