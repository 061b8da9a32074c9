import * as assert from 'node:assert/strict';
import { Command } from 'ioredis';
import { logKey } from '../../src/core/optuna/journal/redisLog';
import { encodeLogRangeGet } from '../../src/core/optuna/journal/redisRange';

/** What ioredis itself writes for `mgetBuffer(keys)`. */
function ioredisRequest(keys: string[]): Buffer {
  const w = new Command('mget', keys, { replyEncoding: null }).toWritable(undefined as never);
  return Buffer.isBuffer(w) ? w : Buffer.from(w, 'utf8');
}

describe('journal range MGET encoding', () => {
  for (const prefix of ['', 'big', 'ümlaut-前缀', 'a b\r\n*$']) {
    for (const [first, last] of [
      [0, 0],
      [0, 12],
      [8, 11],
      [95, 105],
      [999_990, 1_000_010],
      [2 ** 40 - 3, 2 ** 40 + 3],
      [Number.MAX_SAFE_INTEGER - 2, Number.MAX_SAFE_INTEGER],
    ]) {
      it(`equals ioredis' own request for ${JSON.stringify(prefix)} entries ${first}…${last}`, () => {
        const keys = Array.from({ length: last - first + 1 }, (_, i) => logKey(prefix, first + i));
        assert.deepEqual(encodeLogRangeGet(prefix, first, last), ioredisRequest(keys));
      });
    }
  }

  it('encodes a 5,000-key batch exactly', () => {
    const keys = Array.from({ length: 5000 }, (_, i) => logKey('study', 123_456 + i));
    assert.deepEqual(encodeLogRangeGet('study', 123_456, 128_455), ioredisRequest(keys));
  });
});
