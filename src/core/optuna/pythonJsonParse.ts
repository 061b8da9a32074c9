/**
 * JSON as Python's `json` module writes it: bare `NaN`, `Infinity`, `-Infinity` tokens and
 * integers of any size. No maintained npm parser accepts both (json5 loses big integers,
 * lossless-json/json-bigint reject NaN), so this is a small parser with a fast path: text
 * without those tokens and without long integer literals goes through the native JSON.parse,
 * which is what almost every journal entry is.
 */

export type JsonValue =
  null | boolean | number | bigint | string | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

/**
 * Deepest nesting of arrays and objects read. Python's json module cannot read or write a
 * document nested 1000 levels deep under its default recursion limit, so no Optuna writes or
 * reads one; refusing it here keeps every recursive walk of a value (this parser, the
 * writers, the views) far from the stack's limit, whatever the stack depth of the caller.
 */
export const MAX_DEPTH = 1000;

export class PyJsonError extends Error {
  constructor(
    message: string,
    readonly position: number,
  ) {
    super(`${message} at position ${position}`);
  }
}

export function parsePyJson(text: string): JsonValue {
  let v: JsonValue;
  try {
    v = JSON.parse(text) as JsonValue;
  } catch {
    // NaN/Infinity tokens, or really malformed: the slow parser accepts the first and
    // explains the second with a position.
    return new Parser(text).parseDocument();
  }
  // JSON.parse rounds integers beyond 2^53, reads an integer beyond 1e308 as Infinity and an
  // integer -0 as -0.0; such a value shows up as an unsafe integer, a non-finite number or a
  // -0 after parsing, so only those texts are parsed again. JSON.parse takes any nesting: the
  // walk that looks for them also enforces MAX_DEPTH.
  return hasInexactNumber(v, text, 1) ? new Parser(text).parseDocument() : v;
}

function hasInexactNumber(v: JsonValue, text: string, depth: number): boolean {
  if (typeof v === 'number')
    return (
      (v === 0 && 1 / v < 0) ||
      (Number.isInteger(v) && !Number.isSafeInteger(v)) ||
      !Number.isFinite(v)
    );
  if (typeof v !== 'object' || v === null) return false;
  if (depth > MAX_DEPTH) throw tooDeep(text);
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) if (hasInexactNumber(v[i], text, depth + 1)) return true;
    return false;
  }
  for (const k in v) if (hasInexactNumber(v[k], text, depth + 1)) return true;
  return false;
}

/** The error for a text nested deeper than MAX_DEPTH, at the bracket that goes too deep. */
function tooDeep(text: string, at = tooDeepAt(text)): PyJsonError {
  return new PyJsonError(
    `Nested deeper than ${MAX_DEPTH} levels (more than Python's json module reads)`,
    at,
  );
}

/** Position of the first bracket beyond MAX_DEPTH, or -1; brackets in strings do not count. */
function tooDeepAt(text: string): number {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      // Skip the string: up to the next quote that is not escaped.
      for (i++; i < text.length; i++) {
        const d = text.charCodeAt(i);
        if (d === 0x5c) i++;
        else if (d === 0x22) break;
      }
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > MAX_DEPTH) return i;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return -1;
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

class Parser {
  private pos = 0;
  private depth = 0;
  constructor(private readonly s: string) {}

  parseDocument(): JsonValue {
    this.ws();
    const v = this.value();
    this.ws();
    if (this.pos !== this.s.length)
      throw new PyJsonError('Unexpected data after the JSON value', this.pos);
    return v;
  }

  private ws(): void {
    const s = this.s;
    while (this.pos < s.length) {
      const c = s.charCodeAt(this.pos);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) this.pos++;
      else break;
    }
  }

  private value(): JsonValue {
    const s = this.s;
    const c = s[this.pos];
    switch (c) {
      case '{':
        return this.object();
      case '[':
        return this.array();
      case '"':
        return this.string();
      case 't':
        return this.literal('true', true);
      case 'f':
        return this.literal('false', false);
      case 'n':
        return this.literal('null', null);
      case 'N':
        return this.literal('NaN', NaN);
      case 'I':
        return this.literal('Infinity', Infinity);
      case undefined:
        throw new PyJsonError('Unexpected end of JSON', this.pos);
      default:
        if (c === '-' && s.startsWith('-Infinity', this.pos))
          return this.literal('-Infinity', -Infinity);
        if (c === '-' || (c >= '0' && c <= '9')) return this.number();
        throw new PyJsonError(`Unexpected character ${JSON.stringify(c)}`, this.pos);
    }
  }

  private literal<T extends JsonValue>(word: string, v: T): T {
    if (!this.s.startsWith(word, this.pos)) throw new PyJsonError('Invalid literal', this.pos);
    this.pos += word.length;
    return v;
  }

  private number(): number | bigint {
    const s = this.s;
    const start = this.pos;
    if (s[this.pos] === '-') this.pos++;
    if (s[this.pos] === '0') this.pos++;
    else if (s[this.pos] >= '1' && s[this.pos] <= '9')
      while (s[this.pos] >= '0' && s[this.pos] <= '9') this.pos++;
    else throw new PyJsonError('Invalid number', start);
    let isInt = true;
    if (s[this.pos] === '.') {
      isInt = false;
      this.pos++;
      const d = this.pos;
      while (s[this.pos] >= '0' && s[this.pos] <= '9') this.pos++;
      if (this.pos === d) throw new PyJsonError('Invalid number', start);
    }
    if (s[this.pos] === 'e' || s[this.pos] === 'E') {
      isInt = false;
      this.pos++;
      if (s[this.pos] === '+' || s[this.pos] === '-') this.pos++;
      const d = this.pos;
      while (s[this.pos] >= '0' && s[this.pos] <= '9') this.pos++;
      if (this.pos === d) throw new PyJsonError('Invalid number', start);
    }
    const lit = s.slice(start, this.pos);
    if (!isInt) return Number(lit);
    const n = Number(lit);
    if (Number.isSafeInteger(n)) return n === 0 ? 0 : n;
    const big = BigInt(lit);
    return big > MAX_SAFE || big < -MAX_SAFE ? big : Number(big);
  }

  private string(): string {
    const s = this.s;
    const start = this.pos;
    this.pos++;
    let out = '';
    let chunk = this.pos;
    for (;;) {
      if (this.pos >= s.length) throw new PyJsonError('Unterminated string', start);
      const c = s.charCodeAt(this.pos);
      if (c === 0x22) {
        out += s.slice(chunk, this.pos);
        this.pos++;
        return out;
      }
      if (c === 0x5c) {
        out += s.slice(chunk, this.pos);
        const e = s[this.pos + 1];
        this.pos += 2;
        switch (e) {
          case '"':
            out += '"';
            break;
          case '\\':
            out += '\\';
            break;
          case '/':
            out += '/';
            break;
          case 'b':
            out += '\b';
            break;
          case 'f':
            out += '\f';
            break;
          case 'n':
            out += '\n';
            break;
          case 'r':
            out += '\r';
            break;
          case 't':
            out += '\t';
            break;
          case 'u': {
            const hex = s.slice(this.pos, this.pos + 4);
            if (!/^[0-9a-fA-F]{4}$/.test(hex))
              throw new PyJsonError('Invalid \\u escape', this.pos - 2);
            out += String.fromCharCode(parseInt(hex, 16));
            this.pos += 4;
            break;
          }
          default:
            throw new PyJsonError('Invalid escape', this.pos - 2);
        }
        chunk = this.pos;
        continue;
      }
      if (c < 0x20) throw new PyJsonError('Control character in string', this.pos);
      this.pos++;
    }
  }

  /** Enters an array or object; the caller leaves with `this.depth--` once it is closed. */
  private enter(): void {
    if (++this.depth > MAX_DEPTH) throw tooDeep(this.s, this.pos);
    this.pos++;
  }

  private array(): JsonValue[] {
    this.enter();
    const out: JsonValue[] = [];
    this.ws();
    if (this.s[this.pos] === ']') {
      this.pos++;
      this.depth--;
      return out;
    }
    for (;;) {
      this.ws();
      out.push(this.value());
      this.ws();
      const c = this.s[this.pos++];
      if (c === ']') {
        this.depth--;
        return out;
      }
      if (c !== ',') throw new PyJsonError('Expected , or ] in array', this.pos - 1);
    }
  }

  private object(): JsonObject {
    this.enter();
    const out: JsonObject = {};
    this.ws();
    if (this.s[this.pos] === '}') {
      this.pos++;
      this.depth--;
      return out;
    }
    for (;;) {
      this.ws();
      if (this.s[this.pos] !== '"') throw new PyJsonError('Expected a string key', this.pos);
      const key = this.string();
      this.ws();
      if (this.s[this.pos++] !== ':') throw new PyJsonError('Expected : after key', this.pos - 1);
      this.ws();
      // defineProperty keeps a "__proto__" key as data, as JSON.parse does.
      Object.defineProperty(out, key, {
        value: this.value(),
        enumerable: true,
        writable: true,
        configurable: true,
      });
      this.ws();
      const c = this.s[this.pos++];
      if (c === '}') {
        this.depth--;
        return out;
      }
      if (c !== ',') throw new PyJsonError('Expected , or } in object', this.pos - 1);
    }
  }
}

/**
 * `target[key] = value` that keeps a key named "__proto__" as data (an attribute of that name
 * is legal in Optuna; plain assignment, and Object.assign, would set the prototype instead).
 */
export function setOwn(target: JsonObject, key: string, value: JsonValue): void {
  // Any other key assigns the same own data property, many times faster.
  if (key !== '__proto__') target[key] = value;
  else
    Object.defineProperty(target, key, {
      value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
}

/**
 * Python JSON with ints and floats kept apart: every integer literal becomes a bigint, every
 * float a number (`1` -> 1n, `1.0` -> 1). Exporting a study must write `1` where Optuna wrote
 * `1` and `1.0` where it wrote `1.0` (attribute values, categorical choices, IntDistribution
 * bounds), which a plain parse cannot tell apart. Also reads NaN/Infinity tokens.
 *
 * Each number (and NaN/Infinity) is replaced by a string "\u0000<i|f><literal>" before
 * JSON.parse, and a reviver turns those back. A string value that itself starts with U+0000 is
 * escaped as "\u0000s<original>" so that it cannot pass for a number; keys are left alone (a
 * reviver never sees them, and numbers are never keys).
 */
const TOKEN =
  /("(?:[^"\\]|\\.)*")(\s*:)?|(-?(?:0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?)|(NaN|-?Infinity)/g;
const ESCAPED_NUL = '\\u0000';

export function parseTypedPyJson(text: string): JsonValue {
  // JSON.parse with a reviver recurses on the native stack: the limit is checked first.
  const at = tooDeepAt(text);
  if (at >= 0) throw tooDeep(text, at);
  const marked = text.replace(
    TOKEN,
    (
      m,
      str: string | undefined,
      colon: string | undefined,
      num: string | undefined,
      frac: string | undefined,
      exp: string | undefined,
      special: string | undefined,
    ) => {
      if (str !== undefined)
        return colon !== undefined || !str.startsWith(`"${ESCAPED_NUL}`)
          ? m
          : `"${ESCAPED_NUL}s${str.slice(1)}`;
      if (special !== undefined) return `"${ESCAPED_NUL}f${special}"`;
      return `"${ESCAPED_NUL}${frac || exp ? 'f' : 'i'}${num}"`;
    },
  );
  return JSON.parse(marked, (_key, v: unknown) => {
    if (typeof v !== 'string' || v.charCodeAt(0) !== 0) return v;
    const payload = v.slice(2);
    switch (v[1]) {
      case 'i':
        return BigInt(payload);
      case 'f':
        return Number(payload);
      default:
        return payload;
    }
  }) as JsonValue;
}
