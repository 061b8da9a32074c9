import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  OpCode,
  directionCode,
  directionOfCode,
  trialStateCode,
  trialStateOfCode,
} from '../../src/core/optuna/journal/protocol';
import { STUDY_DIRECTIONS, TRIAL_STATES } from '../../src/core/optuna/model';

const ROOT = path.resolve(__dirname, '..', '..');
/** The protocol's own room: the only place allowed to know the numbers. */
const PROTOCOL_DIR = path.join('src', 'core', 'optuna', 'journal') + path.sep;

function sources(dir: string): string[] {
  return fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((e) => {
    const rel = path.join(dir, e.name);
    if (e.isDirectory()) return e.name === 'node_modules' || e.name === 'out' ? [] : sources(rel);
    return /\.(ts|js|mjs)$/.test(e.name) ? [rel] : [];
  });
}

describe('journal protocol', () => {
  it('has the codes of Optuna 3.1 … 5.0, both ways', () => {
    assert.deepEqual(Object.values(OpCode), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert.deepEqual(TRIAL_STATES.map(trialStateCode), [0, 1, 2, 3, 4]);
    assert.deepEqual(STUDY_DIRECTIONS.map(directionCode), [0, 1, 2]);
    for (const s of TRIAL_STATES) assert.equal(trialStateOfCode(trialStateCode(s)), s);
    for (const d of STUDY_DIRECTIONS) assert.equal(directionOfCode(directionCode(d)), d);
    assert.equal(trialStateOfCode(5), undefined);
    assert.equal(trialStateOfCode('1'), undefined);
    assert.equal(directionOfCode(3), undefined);
  });

  it('is the only code that writes or dispatches on a literal op code', () => {
    // Code that builds a record with a number after `op_code` and a colon (bare, BigInt or
    // int), or compares `op_code` with a number. JSON text in tests (the key in quotes) is
    // ground truth or deliberately broken input, and stays literal.
    const building = /\bop_code\s*:\s*(?:BigInt\(|int\()?\s*-?\d/;
    const testing = /\bop_code\s*[!=]==?\s*\d/;
    const offenders: string[] = [];
    for (const file of ['src', 'test', 'bench'].flatMap(sources)) {
      if (file.startsWith(PROTOCOL_DIR)) continue;
      const lines = fs.readFileSync(path.join(ROOT, file), 'utf8').split('\n');
      lines.forEach((line, i) => {
        if (building.test(line) || testing.test(line)) offenders.push(`${file}:${i + 1}: ${line}`);
      });
    }
    assert.deepEqual(offenders, [], 'use OpCode and JournalRecords from core/optuna/journal');
  });
});
