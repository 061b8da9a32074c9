import * as assert from 'node:assert/strict';
import { studyToJson, writeDump } from '../../src/core/optuna/dumpFormat';
import type { ReadIssue } from '../../src/core/optuna/model';
import { toStrictJson } from '../../src/core/optuna/strictJson';
import { JournalReplay } from '../../src/core/optuna/replay';
import { extraRules, optunaCompatibleRules } from '../fixtures/replayRules';

/** What `dump` printed before it streamed: the whole document built, then written at once. */
function wholeDocument(r: JournalReplay, issues?: readonly ReadIssue[]): string {
  const doc: Record<string, unknown> = { studies: r.allStudies().map(studyToJson) };
  if (issues)
    doc.issues = issues.map((i) => ({ kind: i.kind, index: i.index, message: i.message }));
  return toStrictJson(doc as never) + '\n';
}

function replayOf(lines: string[]): JournalReplay {
  const r = new JournalReplay();
  lines.forEach((l, i) => r.applyText(i, l));
  return r;
}

describe('dump document, streamed', () => {
  it('is byte for byte the document built whole, with and without issues', async () => {
    const r = replayOf([...optunaCompatibleRules(), ...extraRules()]);
    assert.ok(r.issues.length > 0);
    for (const issues of [undefined, r.issues]) {
      let out = '';
      await writeDump(r.allStudies(), issues, (t) => void (out += t));
      assert.equal(out, wholeDocument(r, issues));
    }
    let empty = '';
    await writeDump([], undefined, (t) => void (empty += t));
    assert.equal(empty, '{"studies":[]}\n');
  });

  it('hands over pieces of bounded size and waits for each one it is asked to wait for', async () => {
    // Many trials: a study of 3,000 small trials is ~1 MB of JSON.
    const lines = ['{"op_code": 0, "worker_id": "w", "study_name": "s", "directions": [1]}'];
    for (let i = 0; i < 3000; i++)
      lines.push(
        `{"op_code": 4, "worker_id": "w", "study_id": 0, "datetime_start": "2026-11-26T10:00:00.000001", "state": 1, "value": ${i / 7}, "params": {"x": ${i}}, "distributions": {"x": "{\\"name\\": \\"IntDistribution\\", \\"attributes\\": {\\"log\\": false, \\"step\\": 1, \\"low\\": 0, \\"high\\": 5000}}"}, "datetime_complete": "2026-11-26T10:00:00.000002"}`,
      );
    const r = replayOf(lines);
    const chunks: string[] = [];
    let waiting = 0;
    let maxWaiting = 0;
    await writeDump(r.allStudies(), undefined, async (t) => {
      chunks.push(t);
      waiting++;
      maxWaiting = Math.max(maxWaiting, waiting);
      await new Promise((res) => setImmediate(res));
      waiting--;
    });
    assert.ok(chunks.length > 5, `only ${chunks.length} pieces`);
    assert.ok(Math.max(...chunks.map((c) => c.length)) < 2 * 65536);
    assert.equal(maxWaiting, 1, 'a piece was written before the previous one was taken');
    assert.equal(chunks.join(''), wholeDocument(r));
  });

  it('stops between pieces when cancelled', async () => {
    const r = replayOf(optunaCompatibleRules());
    const ac = new AbortController();
    ac.abort(new Error('interrupted'));
    await assert.rejects(
      writeDump(r.allStudies(), undefined, () => undefined, ac.signal),
      /interrupted/,
    );
  });
});
