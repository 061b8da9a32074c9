import { equal, order } from './filterCompare';
import { type Node, parse } from './filterParser';
import { FilterError, type Scalar } from './filterTokens';

/**
 * The trial table's filter expressions, e.g. `lr < 0.01 and state == COMPLETE`,
 * `optimizer in ["adam", "sgd"] or not (value >= 1e-3)`, `user.fold == 3`, `params["my-lr"] > 0`.
 *
 * Parsed (filterTokens, filterParser) and compiled here to a predicate over row indexes: no
 * code is evaluated at run time (the webview's CSP forbids it anyway). Errors name the place
 * and what was expected, with the names that exist when a name is unknown.
 */

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

/** Parses and checks an expression against the columns; throws FilterError. */
export function compileFilter(src: string, schema: FilterSchema): (row: number) => boolean {
  return compileBool(parse(src), schema);
}

/** Parses only (syntax errors), without columns: for tests and early feedback. */
export function parseFilter(src: string): unknown {
  return parse(src);
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
