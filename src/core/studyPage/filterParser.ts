import { FilterError, LITERALS, type Scalar, type Token, tokenize } from './filterTokens';

/**
 * The filter language's grammar, parsed by recursive descent into a tree; errors name the
 * place and what was expected.
 *
 *   expr := or;  or := and ("or" and)*;  and := not ("and" not)*;  not := "not" not | cmp
 *   cmp  := operand (("==" | "!=" | "<" | "<=" | ">" | ">=" | "in" | "not in") operand)?
 *   operand := "-"? (number | string | list | name | name "[" (string | integer) "]" | "(" expr ")")
 */

export type Node =
  | { t: 'or' | 'and'; l: Node; r: Node }
  | { t: 'not'; e: Node }
  | { t: 'cmp'; op: string; l: Node; r: Node; pos: number }
  | { t: 'lit'; v: Scalar; pos: number }
  | { t: 'list'; items: Node[]; pos: number }
  | { t: 'name'; name: string; pos: number }
  | { t: 'neg'; e: Node; pos: number };

const KEYWORDS = new Set(['and', 'or', 'not', 'in']);

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

/** The expression's tree; throws FilterError. */
export function parse(src: string): Node {
  return new Parser(tokenize(src)).parse();
}
