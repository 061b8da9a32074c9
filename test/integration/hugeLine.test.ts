import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const CLI = path.resolve(__dirname, '../../dist/cli.js');

/**
 * Issue #17 "also fix": a journal file that is one gigantic unterminated line took 8.5 s and
 * 670 MB and exited 0 with no studies; now bounded memory and a clear "not a journal".
 */
describe('a journal file with a gigantic line', function () {
  this.timeout(120_000);
  let dir: string;
  before(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'osm-hugeline-'))));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  for (const terminated of [false, true]) {
    it(`${terminated ? 'terminated' : 'unterminated'}: exit 2, "not an Optuna journal file", bounded memory`, async () => {
      const file = path.join(dir, `big-${terminated}.log`);
      const fd = fs.openSync(file, 'w');
      const block = Buffer.alloc(8 << 20, 'a');
      for (let i = 0; i < 25; i++) fs.writeSync(fd, block); // 200 MB, no newline
      if (terminated) fs.writeSync(fd, '\n');
      fs.closeSync(fd);
      const t0 = Date.now();
      // Peak RSS from /proc while it runs (VmHWM), as in hugeCounter.test.ts.
      const child = spawn(process.execPath, [CLI, 'dump', file], {
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      let peakKb = 0;
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const sample = setInterval(() => {
        const m = /VmHWM:\s+(\d+)/.exec(readStatus(child.pid!));
        if (m) peakKb = Math.max(peakKb, Number(m[1]));
      }, 20);
      const status = await new Promise<number | null>((res) => child.on('exit', res));
      clearInterval(sample);
      const r = { status, stderr };
      const ms = Date.now() - t0;
      const peakMb = peakKb / 1024;
      console.log(`      ${ms} ms, peak RSS ${peakMb.toFixed(0)} MB`);
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, /is not an Optuna journal file/);
      assert.ok(peakMb < 300, `peak RSS ${peakMb} MB`);
    });
  }
});

function readStatus(pid: number): string {
  try {
    return fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return ''; // exited
  }
}
