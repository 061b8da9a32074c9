import { isAscii } from 'node:buffer';

/** One MGET's reply: each value's text (UTF-8 decoded), null for a missing key. */
export type MgetValues = Array<string | null>;

/** The server answered an MGET with an error reply (`-ERR …`). */
export class MgetReplyError extends Error {}

/**
 * Reads the replies to MGETs from the raw bytes of a connection, as they arrive: each value
 * becomes a string directly, without the Buffer per value that a general RESP parser makes
 * and the decoding of each one after it. A chunk of pure ASCII (what Python's `json.dumps`
 * writes by default) is decoded once and each value is a substring of it.
 *
 * Only what an MGET can answer is accepted (an array of bulk strings, or an error); anything
 * else is a protocol error, after which the parser accepts nothing more.
 */
export class MgetReplyParser {
  /** Bytes of an element that did not arrive whole yet, and how many bytes it needs at least. */
  private held: Buffer[] = [];
  private heldBytes = 0;
  private need = 0;
  /** The reply being read: its values so far and how many it will have (-1: header next). */
  private values: MgetValues = [];
  private expected = -1;
  private broken: Error | undefined;

  constructor(
    private readonly onReply: (values: MgetValues) => void,
    private readonly onError: (e: MgetReplyError) => void,
  ) {}

  /** Feeds the next bytes received; throws (and stays broken) on a protocol error. */
  push(chunk: Buffer): void {
    if (this.broken) throw this.broken;
    if (this.heldBytes > 0) {
      this.held.push(chunk);
      this.heldBytes += chunk.length;
      if (this.heldBytes < this.need) return;
      chunk = Buffer.concat(this.held, this.heldBytes);
      this.held = [];
      this.heldBytes = 0;
    }
    try {
      this.parse(chunk);
    } catch (e) {
      this.broken = e as Error;
      throw e;
    }
  }

  private hold(buf: Buffer, from: number, need: number): void {
    this.held = [buf.subarray(from)];
    this.heldBytes = buf.length - from;
    this.need = need;
  }

  private parse(buf: Buffer): void {
    const end = buf.length;
    const text = isAscii(buf) ? buf.toString('latin1') : undefined;
    let at = 0;
    while (at < end) {
      const start = at;
      const type = buf[at];
      // The decimal after the type byte, up to CRLF (an error's text for '-').
      let i = at + 1;
      let negative = false;
      if (buf[i] === 0x2d && type !== 0x2d) {
        negative = true;
        i++;
      }
      let n = 0;
      while (i < end && buf[i] !== 0x0d) {
        if (type !== 0x2d) {
          const d = buf[i] - 0x30;
          if (d < 0 || d > 9) throw this.protocol(`a length holds byte ${buf[i]}`);
          n = n * 10 + d;
        }
        i++;
      }
      if (i + 1 >= end) return this.hold(buf, start, end - start + 1);
      const body = i + 2;
      if (type === 0x2d) {
        // An error replaces the whole reply of the command it answers.
        if (this.expected >= 0) throw this.protocol('an error reply inside an array');
        this.onError(new MgetReplyError(buf.toString('utf8', start + 1, i)));
        at = body;
      } else if (this.expected < 0) {
        if (type !== 0x2a || negative) throw this.protocol(`reply type byte ${type}`);
        this.values = new Array<string | null>(n);
        this.expected = n;
        at = body;
        if (n === 0) this.finishReply(0);
      } else {
        if (type !== 0x24) throw this.protocol(`value type byte ${type}`);
        const filled = this.values.length - this.expected;
        if (negative) {
          this.values[filled] = null;
          at = body;
        } else {
          if (body + n + 2 > end) return this.hold(buf, start, body - start + n + 2);
          this.values[filled] =
            text !== undefined
              ? text.substring(body, body + n)
              : buf.toString('utf8', body, body + n);
          at = body + n + 2;
        }
        this.finishReply(this.expected - 1);
      }
    }
  }

  private finishReply(left: number): void {
    this.expected = left;
    if (left > 0) return;
    this.expected = -1;
    const values = this.values;
    this.values = [];
    this.onReply(values);
  }

  private protocol(what: string): Error {
    return new Error(`unexpected reply from Redis to MGET: ${what}`);
  }
}
