import type Redis from 'ioredis';
import { raceAbort } from '../../abort';
import { PatientCommand, bytesReceived, onSilence } from '../../patientCommand';
import { type MgetValues, MgetReplyParser } from './mgetReplies';
import { logKeyHead } from './redisLog';

/**
 * An MGET whose request was encoded here, as bytes. ioredis encodes a command by string
 * concatenation with a byte count per argument, then the socket encodes the whole string
 * again: for the 1,000,000 keys of a 100,000-trial journal that was 0.2 s of the client's
 * ~2 s of CPU in a cold load. ioredis' own Script command overrides toWritable the same way.
 * Patient: it times out only when the connection goes silent, not while earlier replies arrive.
 */
class EncodedMget extends PatientCommand {
  constructor(
    private readonly request: Buffer,
    received: () => number,
  ) {
    // replyEncoding null: the values come back as Buffers, decoded once by the caller.
    super('mget', [], { replyEncoding: null }, received);
  }

  override toWritable(): Buffer {
    return this.request;
  }
}

const CR = 13;
const LF = 10;

/**
 * The RESP request `MGET <prefix>:log:<first> … <prefix>:log:<last>`, byte for byte what
 * ioredis writes for `mgetBuffer(keys)` with those keys (the keys as logKey names them).
 * Consecutive keys differ only in their index, so each key line is copied from the part
 * shared by all keys of as many digits (`$<length>\r\n<prefix>:log:`) and the index's digits
 * are counted up in place: no division per key (a million keys for a 100,000-trial journal).
 */
export function encodeLogRangeGet(prefix: string, first: number, last: number): Buffer {
  const headText = logKeyHead(prefix);
  const headBytes = Buffer.byteLength(headText, 'utf8');
  const count = last - first + 1;
  // Per key at most: "$" + 17 digits of length + CRLF + head + 16 digits of index + CRLF.
  const buf = Buffer.allocUnsafe(32 + count * (headBytes + 40));
  let at = buf.write(`*${count + 1}\r\n$4\r\nmget\r\n`, 0, 'latin1');
  let digits = Buffer.from(String(first), 'latin1');
  let line = Buffer.from(`$${headBytes + digits.length}\r\n${headText}`, 'utf8');
  for (let n = first; n <= last; n++) {
    for (let i = 0; i < line.length; i++) buf[at++] = line[i];
    for (let i = 0; i < digits.length; i++) buf[at++] = digits[i];
    buf[at++] = CR;
    buf[at++] = LF;
    // n + 1, in decimal digits: 9s roll over to 0s; past all 9s the index gains a digit.
    let k = digits.length - 1;
    while (k >= 0 && digits[k] === 0x39) digits[k--] = 0x30;
    if (k >= 0) digits[k]++;
    else if (n < last) {
      digits = Buffer.from(String(n + 1), 'latin1');
      line = Buffer.from(`$${headBytes + digits.length}\r\n${headText}`, 'utf8');
    }
  }
  return buf.subarray(0, at);
}

/** Reads ranges of journal entries: each value's text, null where an entry is missing. */
export interface LogRanges {
  get(first: number, last: number): Promise<MgetValues>;
  /** Releases what the reader holds (its own connection, if it has one). */
  close(): void;
}

/** Ranges read through a shared connection, like any other command on it. */
export function sharedLogRanges(redis: Redis, prefix: string): LogRanges {
  return {
    async get(first, last) {
      const mget = new EncodedMget(encodeLogRangeGet(prefix, first, last), bytesReceived(redis));
      const values = (await redis.sendCommand(mget)) as Array<Buffer | null>;
      return values.map((b) => (b === null ? null : b.toString('utf8')));
    },
    close() {},
  };
}

/**
 * Ranges read on a connection of their own, opened like `redis` (same server, Sentinel,
 * TLS, user, database): after ioredis has connected it, the replies are read from its socket
 * by MgetReplyParser instead of ioredis' parser, which made a Buffer per value and spent about
 * a third of a cold load's client CPU (the 1,000,001 entries of a 100,000-trial journal:
 * ~1.5 s of CPU to receive and parse them, ~1.0 s this way). For long reads: the connection
 * costs a round trip or two to open, and is closed by `close()`.
 */
export async function ownLogRanges(
  redis: Redis,
  prefix: string,
  signal?: AbortSignal,
): Promise<LogRanges> {
  const own = redis.duplicate({
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  let failure: Error | undefined;
  own.on('error', (e: Error) => (failure = e));
  try {
    await raceAbort(own.connect(), signal);
    // A round trip after the commands ioredis sends on connecting, so that none of their
    // replies is still to come when the socket is taken over. SELECT when there is a database:
    // ioredis only logs a failed one and stays on database 0, this one fails here.
    const db = own.options.db;
    await raceAbort(db ? own.select(db) : own.ping(), signal);
  } catch (e) {
    own.disconnect();
    throw failure ?? e;
  }
  const socket = own.stream;
  const waiting: Array<{ resolve: (v: MgetValues) => void; reject: (e: Error) => void }> = [];
  // No byte for as long as a command may take while replies are awaited: a frozen server
  // (onSilence: not the socket's own idle timeout, which fires before the waiting bytes are
  // read when the replay blocked the event loop, and cut a cold load short on a busy machine).
  const timeoutMs = own.options.commandTimeout;
  let stopWatch: (() => void) | undefined;
  const unwatch = () => {
    stopWatch?.();
    stopWatch = undefined;
  };
  const watch = () => {
    if (stopWatch || !timeoutMs) return;
    stopWatch = onSilence(
      () => socket.bytesRead,
      timeoutMs,
      () => {
        stopWatch = undefined;
        failAll(new Error('Command timed out'));
        socket.destroy();
      },
    );
  };
  const failAll = (e: Error) => {
    failure ??= e;
    unwatch();
    for (const w of waiting.splice(0)) w.reject(e);
  };
  const settled = () => {
    if (waiting.length === 0) unwatch();
  };
  const parser = new MgetReplyParser(
    (values) => {
      waiting.shift()?.resolve(values);
      settled();
    },
    (e) => {
      waiting.shift()?.reject(e);
      settled();
    },
  );
  // From here on the socket's bytes are ours: ioredis' parser no longer sees them.
  socket.removeAllListeners('data');
  socket.on('data', (chunk: Buffer) => {
    try {
      parser.push(chunk);
    } catch (e) {
      failAll(e as Error);
      socket.destroy();
    }
  });
  socket.once('close', () => failAll(new Error('Connection is closed.')));
  return {
    get(first, last) {
      if (failure) return Promise.reject(failure);
      return new Promise<MgetValues>((resolve, reject) => {
        waiting.push({ resolve, reject });
        socket.write(encodeLogRangeGet(prefix, first, last));
        watch();
      });
    },
    close() {
      unwatch();
      own.disconnect();
    },
  };
}
