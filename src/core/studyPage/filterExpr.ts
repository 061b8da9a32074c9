/**
 * The trial table's filter expressions, e.g. `lr < 0.01 and state == COMPLETE`,
 * `optimizer in ["adam", "sgd"] or not (value >= 1e-3)`, `user.fold == 3`, `params["my-lr"] > 0`.
 *
 * A small recursive-descent parser and a compiler to a predicate over row indexes: no code is
 * evaluated at run time (the webview's CSP forbids it anyway). Errors name the place and what
 * was expected, with the names that exist when a name is unknown.
 *
 *   expr := or;  or := and ("or" and)*;  and := not ("and" not)*;  not := "not" not | cmp
 *   cmp  := operand (("==" | "!=" | "<" | "<=" | ">" | ">=" | "in" | "not in") operand)?
 *   operand := "-"? (number | string | list | name | name "[" (string | integer) "]" | "(" expr ")")
 */

export type Scalar = number | string | boolean | null;

/** A column the expression can name. */
export interface FilterColumn {
  /** 'number' columns compare numerically; 'text' by label; 'state' by state name. */
  kind: 'number' | 'text' | 'state' | 'bool' | 'mixed';
  /** The row's value; null when the row has none. */
  get(row: number): Scalar;
}

export interface FilterSchema {
  /** Resolves a plain name (`lr`, `value`, `state`) or a qualified one (`params.lr`, `user.fold`). */
  column(name: string): FilterColumn | undefined;
  /** Names offered in the error for an unknown name. */
  names(): string[];
  /** Constants such as COMPLETE (state names). */
  constant(name: string): Scalar | undefined;
}

export class FilterError extends Error {
  constructor(
    message: string,
    /** 0-based character offset in the expression. */
    readonly position: number,
  ) {
    super(`${message} (at column ${position + 1})`);
  }
}

type Node =
  | { t: 'or' | 'and'; l: Node; r: Node }
  | { t: 'not'; e: Node }
  | { t: 'cmp'; op: string; l: Node; r: Node; pos: number }
  | { t: 'lit'; v: Scalar; pos: number }
  | { t: 'list'; items: Node[]; pos: number }
  | { t: 'name'; name: string; pos: number }
  | { t: 'neg'; e: Node; pos: number };

interface Token {
  k: 'num' | 'str' | 'id' | 'op' | 'end';
  v: string;
  pos: number;
  num?: number;
}

const OPS = ['==', '!=', '<=', '>=', '<', '>', '(', ')', '[', ']', ',', '-', '.', '='];
const KEYWORDS = new Set(['and', 'or', 'not', 'in']);
const LITERALS: Record<string, Scalar> = {
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

function tokenize(src: string): Token[] {
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

class Parser {
  private i = 0;
  constructor(private readonly toks: Token[]) {}

  private peek(): Token {
    return this.toks[this.i];
  }
  private next(): Token {
    return this.toks[this.i++];
  }
  private isKw(t: Token, kw: string): boolean {
    return t.k === 'id' && t.v === kw;
  }
  private describe(t: Token): string {
    return t.k === 'end' ? 'the end' : t.k === 'str' ? `"${t.v}"` : `"${t.v}"`;
  }

  parse(): Node {
    if (this.peek().k === 'end') throw new FilterError('the expression is empty', 0);
    const e = this.or();
    const t = this.peek();
    if (t.k !== 'end')
      throw new FilterError(`expected "and", "or" or the end, found ${this.describe(t)}`, t.pos);
    return e;
  }

  private or(): Node {
    let l = this.and();
    while (this.isKw(this.peek(), 'or')) {
      this.next();
      l = { t: 'or', l, r: this.and() };
    }
    return l;
  }

  private and(): Node {
    let l = this.not();
    while (this.isKw(this.peek(), 'and')) {
      this.next();
      l = { t: 'and', l, r: this.not() };
    }
    return l;
  }

  private not(): Node {
    if (this.isKw(this.peek(), 'not')) {
      this.next();
      return { t: 'not', e: this.not() };
    }
    return this.cmp();
  }

  private cmp(): Node {
    const l = this.operand();
    const t = this.peek();
    let op: string | undefined;
    if (t.k === 'op' && ['==', '!=', '<', '<=', '>', '>='].includes(t.v)) op = t.v;
    else if (this.isKw(t, 'in')) op = 'in';
    else if (this.isKw(t, 'not') && this.isKw(this.toks[this.i + 1], 'in')) {
      this.next();
      op = 'not in';
    }
    if (!op) return l;
    this.next();
    const r = this.operand(op);
    if ((op === 'in' || op === 'not in') && r.t !== 'list')
      throw new FilterError(`"${op}" needs a list such as ["adam", "sgd"]`, t.pos);
    return { t: 'cmp', op, l, r, pos: t.pos };
  }

  private operand(after?: string): Node {
    const t = this.next();
    const expected = () =>
      new FilterError(
        `expected a value${after ? ` after "${after}"` : ''}, found ${this.describe(t)}`,
        t.pos,
      );
    if (t.k === 'num') return { t: 'lit', v: t.num!, pos: t.pos };
    if (t.k === 'str') return { t: 'lit', v: t.v, pos: t.pos };
    if (t.k === 'op' && t.v === '-') return { t: 'neg', e: this.operand(after), pos: t.pos };
    if (t.k === 'op' && t.v === '(') {
      const e = this.or();
      const c = this.next();
      if (c.k !== 'op' || c.v !== ')')
        throw new FilterError(`expected ")" to close the "(" at column ${t.pos + 1}`, c.pos);
      return e;
    }
    if (t.k === 'op' && t.v === '[') {
      const items: Node[] = [];
      if (!(this.peek().k === 'op' && this.peek().v === ']')) {
        for (;;) {
          items.push(this.operand());
          const c = this.next();
          if (c.k === 'op' && c.v === ']') break;
          if (c.k !== 'op' || c.v !== ',')
            throw new FilterError(
              `expected "," or "]" in the list, found ${this.describe(c)}`,
              c.pos,
            );
        }
      } else this.next();
      return { t: 'list', items, pos: t.pos };
    }
    if (t.k === 'id') {
      if (KEYWORDS.has(t.v)) throw expected();
      if (t.v in LITERALS && !(this.peek().k === 'op' && ['.', '['].includes(this.peek().v)))
        return { t: 'lit', v: LITERALS[t.v], pos: t.pos };
      let name = t.v;
      // Qualified names: params.lr, user.fold, values[1], params["my-lr"].
      for (;;) {
        const p = this.peek();
        if (p.k === 'op' && p.v === '.') {
          this.next();
          const id = this.next();
          if (id.k !== 'id') throw new FilterError(`expected a name after "${name}."`, id.pos);
          name += `.${id.v}`;
        } else if (p.k === 'op' && p.v === '[') {
          this.next();
          const key = this.next();
          if (key.k !== 'str' && key.k !== 'num')
            throw new FilterError(
              `expected a name in quotes or an index after "${name}["`,
              key.pos,
            );
          const c = this.next();
          if (c.k !== 'op' || c.v !== ']')
            throw new FilterError(`expected "]" after "${name}[${key.v}"`, c.pos);
          name += key.k === 'num' ? `[${key.v}]` : `.${key.v}`;
        } else break;
      }
      return { t: 'name', name, pos: t.pos };
    }
    throw expected();
  }
}

/** Parses and checks an expression against the columns; throws FilterError. */
export function compileFilter(src: string, schema: FilterSchema): (row: number) => boolean {
  const ast = new Parser(tokenize(src)).parse();
  const pred = compileBool(ast, schema);
  return pred;
}

/** Parses only (syntax errors), without columns: for tests and early feedback. */
export function parseFilter(src: string): unknown {
  return new Parser(tokenize(src)).parse();
}

type Value = (row: number) => Scalar;
interface Operand {
  get: Value;
  kind: FilterColumn['kind'] | 'literal';
  constant?: Scalar;
  label: string;
}

function compileBool(n: Node, schema: FilterSchema): (row: number) => boolean {
  switch (n.t) {
    case 'or': {
      const l = compileBool(n.l, schema);
      const r = compileBool(n.r, schema);
      return (row) => l(row) || r(row);
    }
    case 'and': {
      const l = compileBool(n.l, schema);
      const r = compileBool(n.r, schema);
      return (row) => l(row) && r(row);
    }
    case 'not': {
      const e = compileBool(n.e, schema);
      return (row) => !e(row);
    }
    case 'cmp':
      return compileCmp(n, schema);
    case 'name': {
      const o = operand(n, schema);
      if (o.kind !== 'bool')
        throw new FilterError(
          `"${n.name}" is not true or false by itself: compare it, e.g. ${n.name} > 0`,
          n.pos,
        );
      return (row) => o.get(row) === true;
    }
    case 'lit':
      if (typeof n.v === 'boolean') {
        const v = n.v;
        return () => v;
      }
      throw new FilterError('a value alone is not a condition: compare it with a column', n.pos);
    default:
      throw new FilterError('this is not a condition', 'pos' in n ? n.pos : 0);
  }
}

function operand(n: Node, schema: FilterSchema, other?: Node): Operand {
  if (n.t === 'lit') return { get: () => n.v, kind: 'literal', constant: n.v, label: String(n.v) };
  if (n.t === 'neg') {
    const e = operand(n.e, schema);
    if (e.kind !== 'literal' || typeof e.constant !== 'number')
      throw new FilterError('"-" applies to numbers only', n.pos);
    const v = -e.constant;
    return { get: () => v, kind: 'literal', constant: v, label: String(v) };
  }
  if (n.t === 'name') {
    const col = schema.column(n.name);
    if (col) return { get: (row) => col.get(row), kind: col.kind, label: n.name };
    const c = schema.constant(n.name);
    if (c !== undefined) return { get: () => c, kind: 'literal', constant: c, label: n.name };
    const otherIsState = other?.t === 'name' && schema.column(other.name)?.kind === 'state';
    const names = schema.names();
    const shown =
      names.slice(0, 12).join(', ') + (names.length > 12 ? `, … (${names.length} in all)` : '');
    throw new FilterError(
      otherIsState
        ? `unknown state "${n.name}": use RUNNING, COMPLETE, PRUNED, FAIL or WAITING`
        : `unknown name "${n.name}"; names are ${shown}; user attributes as user.NAME, any param as params["NAME"]`,
      n.pos,
    );
  }
  throw new FilterError('expected a column or a value here', 'pos' in n ? n.pos : 0);
}

function compileCmp(
  n: Extract<Node, { t: 'cmp' }>,
  schema: FilterSchema,
): (row: number) => boolean {
  const l = operand(n.l, schema, n.r);
  if (n.op === 'in' || n.op === 'not in') {
    const list = (n.r as Extract<Node, { t: 'list' }>).items.map((it) => {
      const o = operand(it, schema);
      if (o.kind !== 'literal')
        throw new FilterError('a list holds values, not columns', it.t === 'name' ? it.pos : n.pos);
      return o.constant!;
    });
    const neg = n.op === 'not in';
    return (row) => {
      const v = l.get(row);
      const hit = v !== null && list.some((x) => equal(v, x));
      return neg ? !hit : hit;
    };
  }
  const r = operand(n.r, schema, n.l);
  checkTypes(l, r, n);
  switch (n.op) {
    case '==':
      return (row) => equal(l.get(row), r.get(row));
    case '!=':
      return (row) => !equal(l.get(row), r.get(row));
    default: {
      const op = n.op;
      return (row) => order(l.get(row), r.get(row), op);
    }
  }
}

/** Catches comparisons that can never hold, so the user is told instead of getting 0 rows. */
function checkTypes(l: Operand, r: Operand, n: Extract<Node, { t: 'cmp' }>): void {
  const ordering = n.op !== '==' && n.op !== '!=';
  for (const [col, lit] of [
    [l, r],
    [r, l],
  ] as const) {
    if (lit.kind !== 'literal') continue;
    if (
      col.kind === 'number' &&
      typeof lit.constant === 'string' &&
      Number.isNaN(Number(lit.constant))
    )
      throw new FilterError(
        `"${col.label}" is a number: compare it with a number, not "${lit.constant}"`,
        n.pos,
      );
    if (col.kind === 'state') {
      if (ordering) throw new FilterError('states compare with == and != only', n.pos);
    }
    if (col.kind === 'bool' && ordering)
      throw new FilterError(`"${col.label}" is true or false: use == or !=`, n.pos);
  }
}

function asNumber(v: Scalar): number | undefined {
  if (typeof v === 'number') return v;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'string' && v.trim() !== '') {
    const n = Number(v);
    return Number.isNaN(n) && v !== 'nan' ? undefined : n;
  }
  return undefined;
}

function equal(a: Scalar, b: Scalar): boolean {
  if (a === null || b === null) return a === b;
  if (typeof a === 'string' && typeof b === 'string') return a === b;
  const x = asNumber(a);
  const y = asNumber(b);
  if (x === undefined || y === undefined) return false;
  return x === y || (Number.isNaN(x) && Number.isNaN(y));
}

function order(a: Scalar, b: Scalar, op: string): boolean {
  if (a === null || b === null) return false;
  let c: number;
  if (typeof a === 'string' && typeof b === 'string') c = a < b ? -1 : a > b ? 1 : 0;
  else {
    const x = asNumber(a);
    const y = asNumber(b);
    if (x === undefined || y === undefined || Number.isNaN(x) || Number.isNaN(y)) return false;
    c = x < y ? -1 : x > y ? 1 : 0;
  }
  switch (op) {
    case '<':
      return c < 0;
    case '<=':
      return c <= 0;
    case '>':
      return c > 0;
    default:
      return c >= 0;
  }
}
