/**
 * The filter language's words (see filterExpr): numbers, quoted texts, names (bare or in
 * backticks), operators, and the words that stand for values (True, None, nan, inf, …).
 */

/** A value an expression compares: a literal, a constant or a cell. */
export type Scalar = number | string | boolean | null;

export class FilterError extends Error {
  constructor(
    message: string,
    /** 0-based character offset in the expression. */
    readonly position: number,
  ) {
    super(`${message} (at column ${position + 1})`);
  }
}

export interface Token {
  k: 'num' | 'str' | 'id' | 'op' | 'end';
  v: string;
  pos: number;
  num?: number;
}

const OPS = ['==', '!=', '<=', '>=', '<', '>', '(', ')', '[', ']', ',', '-', '.', '='];

/** Words that stand for a value (Python's and JSON's spellings alike). */
export const LITERALS: Record<string, Scalar> = {
  true: true,
  True: true,
  false: false,
  False: false,
  None: null,
  null: null,
  nan: NaN,
  NaN: NaN,
  inf: Infinity,
  Infinity: Infinity,
};

/** The expression as tokens, ending with an `end` token; throws FilterError. */
export function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i];
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const start = i;
    if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(src[i + 1] ?? ''))) {
      const m = /^(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?/.exec(src.slice(i))!;
      i += m[0].length;
      if (/[A-Za-z_]/.test(src[i] ?? ''))
        throw new FilterError(`"${m[0]}${src[i]}…" is not a number`, start);
      out.push({ k: 'num', v: m[0], pos: start, num: Number(m[0]) });
      continue;
    }
    if (c === '"' || c === "'") {
      let s = '';
      i++;
      for (;;) {
        if (i >= src.length) throw new FilterError(`text starting here has no closing ${c}`, start);
        const ch = src[i];
        if (ch === '\\' && i + 1 < src.length) {
          s += src[i + 1];
          i += 2;
        } else if (ch === c) {
          i++;
          break;
        } else {
          s += ch;
          i++;
        }
      }
      out.push({ k: 'str', v: s, pos: start });
      continue;
    }
    if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(src.slice(i))!;
      i += m[0].length;
      out.push({ k: 'id', v: m[0], pos: start });
      continue;
    }
    if (c === '`') {
      const end = src.indexOf('`', i + 1);
      if (end < 0) throw new FilterError('name starting here has no closing `', start);
      out.push({ k: 'id', v: src.slice(i + 1, end), pos: start });
      i = end + 1;
      continue;
    }
    const op = OPS.find((o) => src.startsWith(o, i));
    if (!op) throw new FilterError(`unexpected character "${c}"`, start);
    if (op === '=') throw new FilterError('use == to compare', start);
    out.push({ k: 'op', v: op, pos: start });
    i += op.length;
  }
  out.push({ k: 'end', v: '', pos: src.length });
  return out;
}
