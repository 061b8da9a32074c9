import * as assert from 'node:assert/strict';
import {
  MgetReplyError,
  MgetReplyParser,
  type MgetValues,
} from '../../src/core/optuna/journal/mgetReplies';

/** RESP for an MGET reply, as redis-server writes it. */
function reply(values: MgetValues): Buffer {
  const parts = [Buffer.from(`*${values.length}\r\n`)];
  for (const v of values) {
    if (v === null) parts.push(Buffer.from('$-1\r\n'));
    else {
      const b = Buffer.from(v, 'utf8');
      parts.push(Buffer.from(`$${b.length}\r\n`), b, Buffer.from('\r\n'));
    }
  }
  return Buffer.concat(parts);
}

type Event = { values: MgetValues } | { error: string };

function parseIn(chunks: Buffer[]): Event[] {
  const events: Event[] = [];
  const p = new MgetReplyParser(
    (values) => events.push({ values }),
    (e) => {
      assert.ok(e instanceof MgetReplyError);
      events.push({ error: e.message });
    },
  );
  for (const c of chunks) p.push(c);
  return events;
}

describe('MGET replies read from raw bytes', () => {
  const first: MgetValues = [
    '{"op_code": 0, "worker_id": "w-1", "study_name": "a", "directions": [1]}',
    null,
    '',
    '{"name": "ümlaut 前缀 🙂"}',
    'x'.repeat(70_000),
  ];
  const second: MgetValues = [null, null];
  const stream = Buffer.concat([
    reply(first),
    Buffer.from('-ERR wrong number of arguments\r\n'),
    reply([]),
    reply(second),
  ]);
  const expected: Event[] = [
    { values: first },
    { error: 'ERR wrong number of arguments' },
    { values: [] },
    { values: second },
  ];

  it('reads replies, errors, missing and empty values in one chunk', () => {
    assert.deepEqual(parseIn([stream]), expected);
  });

  it('reads the same whatever byte the chunks are split at (UTF-8 characters split too)', () => {
    for (let cut = 1; cut < stream.length; cut += cut < 400 ? 1 : 997) {
      assert.deepEqual(
        parseIn([stream.subarray(0, cut), stream.subarray(cut)]),
        expected,
        `split at ${cut}`,
      );
    }
  });

  it('reads a value that arrives in many small chunks', () => {
    const chunks: Buffer[] = [];
    for (let at = 0; at < stream.length; at += 1000) chunks.push(stream.subarray(at, at + 1000));
    assert.deepEqual(parseIn(chunks), expected);
  });

  it('refuses what an MGET cannot answer, and stays refused', () => {
    const p = new MgetReplyParser(
      () => assert.fail('no reply'),
      () => assert.fail('no error'),
    );
    assert.throws(() => p.push(Buffer.from('+OK\r\n')), /unexpected reply from Redis to MGET/);
    assert.throws(() => p.push(reply(['a'])), /unexpected reply from Redis to MGET/);
    const q = new MgetReplyParser(
      () => undefined,
      () => undefined,
    );
    assert.throws(() => q.push(Buffer.from('*1\r\n:5\r\n')), /value type byte 58/);
    assert.throws(
      () =>
        new MgetReplyParser(
          () => undefined,
          () => undefined,
        ).push(Buffer.from('*1\r\n$1x\r\n')),
      /length holds/,
    );
  });
});
