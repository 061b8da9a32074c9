// The trial table's columns, sort and filters over the store: index permutations and masks,
// never copies of rows. No DOM here (unit-tested under Node).
import {
  type FilterColumn,
  type FilterSchema,
  compileFilter,
} from '../../core/studyPage/filterExpr';
import { type ParamMeta, STATE_NAMES, type UserAttrMeta } from '../../core/studyPage/protocol';
import type { PageStore, StoreColumn } from './store';

export interface TableColumn {
  id: string;
  title: string;
  /** Right-aligned numbers, or text. */
  numeric: boolean;
  width: number;
  /** Shown unless the user changes it in the column chooser. */
  shownByDefault: boolean;
  /** Sort key (NaN sorts last whatever the direction). */
  key(row: number): number;
  text(row: number): string;
  /** The filter language's view of this column. */
  filter?: FilterColumn;
  /** The names the filter language knows this column by. */
  names: string[];
}

const collator = new Intl.Collator('en', { numeric: true });

/** Numbers as a person reads them in a table: 6 significant digits, ints whole. */
export function formatNumber(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (!Number.isFinite(v)) return v > 0 ? 'inf' : '-inf';
  if (Number.isInteger(v) && Math.abs(v) < 1e15) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-4 || a >= 1e9)) return v.toExponential(4);
  return String(Number(v.toPrecision(6)));
}

export function formatTime(ms: number): string {
  if (!Number.isFinite(ms)) return '';
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

export function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return '';
  if (s < 60) return `${s < 10 ? s.toFixed(2) : s.toFixed(1)} s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(Math.round(s % 60)).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** Ranks of labels in reading order, so a categorical column sorts by its text. */
function labelRanks(labels: string[]): Float64Array {
  const order = labels.map((_l, i) => i).sort((a, b) => collator.compare(labels[a], labels[b]));
  const rank = new Float64Array(labels.length);
  order.forEach((code, r) => (rank[code] = r));
  return rank;
}

function valueColumn(
  store: PageStore,
  c: StoreColumn<ParamMeta | UserAttrMeta>,
  id: string,
  names: string[],
  shown: boolean,
): TableColumn {
  let ranks: Float64Array | undefined;
  let ranked = -1;
  const rankOf = (code: number) => {
    if (!ranks || ranked !== c.labels.length) {
      ranks = labelRanks(c.labels);
      ranked = c.labels.length;
    }
    return ranks[code];
  };
  const categorical = c.meta.kind === 'categorical' || c.meta.kind === 'text';
  return {
    id,
    title: c.meta.name,
    numeric: !categorical,
    width: 96,
    shownByDefault: shown,
    names,
    // Mixed columns: numbers first, then labels in reading order.
    key: (row) => {
      const code = c.cat.data[row];
      if (code >= 0) return (categorical ? 0 : 1e300) + rankOf(code);
      return categorical ? NaN : c.num.data[row];
    },
    text: (row) => {
      const v = store.cell(c, row);
      return v === undefined ? '' : typeof v === 'number' ? formatNumber(v) : v;
    },
    filter: {
      kind: categorical ? 'text' : c.meta.kind === 'mixed' ? 'mixed' : 'number',
      get: (row) => store.cell(c, row) ?? null,
    },
  };
}

/** Every column the table can show, in order; params first by name. */
export function tableColumns(store: PageStore): TableColumn[] {
  const dirs = store.directions();
  const out: TableColumn[] = [
    {
      id: 'number',
      title: '#',
      numeric: true,
      width: 64,
      shownByDefault: true,
      names: ['number'],
      key: (r) => store.number.data[r],
      text: (r) => String(store.number.data[r]),
      filter: { kind: 'number', get: (r) => store.number.data[r] },
    },
    {
      id: 'state',
      title: 'state',
      numeric: false,
      width: 104,
      shownByDefault: true,
      names: ['state'],
      key: (r) => store.state.data[r],
      text: (r) => `${store.stateName(r)}${store.stale.has(r) ? ' ⚠' : ''}`,
      filter: { kind: 'state', get: (r) => store.stateName(r) },
    },
  ];
  dirs.forEach((d, i) => {
    const v = store.values[i];
    const get = (r: number) => (store.hasValues.data[r] ? v.data[r] : NaN);
    out.push({
      id: `value${i}`,
      title:
        dirs.length === 1
          ? `value (${d === 'MAXIMIZE' ? 'max' : 'min'})`
          : `values[${i}] (${d === 'MAXIMIZE' ? 'max' : 'min'})`,
      numeric: true,
      width: 112,
      shownByDefault: true,
      names:
        dirs.length === 1
          ? ['value', 'values[0]', 'value0']
          : [`values[${i}]`, `value${i}`, ...(i === 0 ? ['value'] : [])],
      key: get,
      text: (r) => (store.hasValues.data[r] ? formatNumber(v.data[r]) : ''),
      filter: { kind: 'number', get: (r) => (store.hasValues.data[r] ? v.data[r] : null) },
    });
  });
  out.push(
    {
      id: 'duration',
      title: 'duration',
      numeric: true,
      width: 88,
      shownByDefault: true,
      names: ['duration'],
      key: (r) => store.duration(r),
      text: (r) => formatSeconds(store.duration(r)),
      filter: { kind: 'number', get: (r) => nullIfNaN(store.duration(r)) },
    },
    {
      id: 'start',
      title: 'start',
      numeric: false,
      width: 150,
      shownByDefault: true,
      names: ['start'],
      key: (r) => store.start.data[r],
      text: (r) => formatTime(store.start.data[r]),
    },
    {
      id: 'steps',
      title: 'steps',
      numeric: true,
      width: 64,
      shownByDefault: false,
      names: ['steps'],
      key: (r) => store.steps.data[r],
      text: (r) => String(store.steps.data[r]),
      filter: { kind: 'number', get: (r) => store.steps.data[r] },
    },
    {
      id: 'worker',
      title: 'worker',
      numeric: false,
      width: 140,
      shownByDefault: false,
      names: ['worker'],
      key: (r) => store.worker.data[r],
      text: (r) => store.workers[store.worker.data[r]] ?? '',
      filter: { kind: 'text', get: (r) => store.workers[store.worker.data[r]] ?? null },
    },
  );
  const params = store.params
    .map((c, id) => ({ c, id }))
    .sort((a, b) => collator.compare(a.c.meta.name, b.c.meta.name));
  params.forEach(({ c, id }, k) =>
    out.push(valueColumn(store, c, `p${id}`, [c.meta.name, `params.${c.meta.name}`], k < 24)),
  );
  const attrs = store.userAttrs
    .map((c, id) => ({ c, id }))
    .sort((a, b) => collator.compare(a.c.meta.name, b.c.meta.name));
  for (const { c, id } of attrs)
    out.push(
      valueColumn(store, c, `u${id}`, [`user.${c.meta.name}`, `user_attrs.${c.meta.name}`], false),
    );
  return out;
}

function nullIfNaN(v: number): number | null {
  return Number.isNaN(v) ? null : v;
}

/** The filter language's view of the table. */
export function filterSchema(store: PageStore, columns: TableColumn[]): FilterSchema {
  const byName = new Map<string, FilterColumn>();
  for (const c of columns)
    if (c.filter) for (const n of c.names) if (!byName.has(n)) byName.set(n, c.filter);
  byName.set('stale', { kind: 'bool', get: (r) => store.stale.has(r) });
  const plain = columns.filter((c) => c.filter).map((c) => c.names[0]);
  return {
    column: (name) => byName.get(name),
    names: () => [...plain, 'stale'],
    constant: (name) => ((STATE_NAMES as readonly string[]).includes(name) ? name : undefined),
  };
}

/**
 * Rows in the order of `key` (ascending or descending); rows without a key (NaN) last, ties
 * by row. A Uint32Array permutation: the columns themselves never move.
 */
export function sortRows(
  count: number,
  key: (row: number) => number,
  descending: boolean,
): Uint32Array {
  const keys = new Float64Array(count);
  let missing = 0;
  for (let r = 0; r < count; r++) {
    keys[r] = key(r);
    if (Number.isNaN(keys[r])) missing++;
  }
  const perm = new Uint32Array(count);
  let head = 0;
  let tail = count - missing;
  for (let r = 0; r < count; r++) perm[Number.isNaN(keys[r]) ? tail++ : head++] = r;
  const sign = descending ? -1 : 1;
  perm.subarray(0, count - missing).sort((a, b) => {
    const ka = keys[a];
    const kb = keys[b];
    return ka < kb ? -sign : ka > kb ? sign : a - b;
  });
  return perm;
}

/**
 * `order` (sorted by `key`) with `changed` rows taken out and put back at their place, the same
 * order a full sort would give. A live update of k rows at n rows costs one copy of the order
 * and k binary searches (O(n + k log n) with k log n reads of `key`), not n comparisons: the
 * rows already in place are never compared. Rows at or past `order.length` are new rows.
 */
export function mergeSorted(
  order: Uint32Array,
  changed: number[],
  key: (row: number) => number,
  descending: boolean,
): Uint32Array {
  // The rows already listed that changed leave their old place (one pass over the order).
  let kept = order;
  const moved = changed.filter((r) => r < order.length);
  if (moved.length) {
    const out = new Uint8Array(order.length);
    for (const r of moved) out[r] = 1;
    kept = new Uint32Array(order.length - new Set(moved).size);
    for (let i = 0, k = 0; i < order.length; i++) if (!out[order[i]]) kept[k++] = order[i];
  }
  // By row first: sortRows breaks ties by index, which must be by row here too.
  const rows = [...new Set(changed)].sort((a, b) => a - b);
  const add = [...sortRows(rows.length, (k) => key(rows[k]), descending)].map((k) => rows[k]);
  // True when row a (key ka) goes before row b: by key, rows without a key last, ties by row.
  const before = (a: number, ka: number, b: number) => {
    const kb = key(b);
    if (Number.isNaN(ka)) return Number.isNaN(kb) && a < b;
    if (Number.isNaN(kb)) return true;
    return descending ? ka > kb || (ka === kb && a < b) : ka < kb || (ka === kb && a < b);
  };
  const out = new Uint32Array(kept.length + add.length);
  let from = 0; // kept[from..] not yet copied; the added rows are sorted, so places only grow
  let k = 0;
  for (const a of add) {
    const ka = key(a);
    let lo = from;
    let hi = kept.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (before(a, ka, kept[mid])) hi = mid;
      else lo = mid + 1;
    }
    out.set(kept.subarray(from, lo), k);
    k += lo - from;
    from = lo;
    out[k++] = a;
  }
  out.set(kept.subarray(from), k);
  return out;
}

/** The rows of `order` whose mask byte is 1. */
export function visibleRows(order: Uint32Array, mask: Uint8Array | undefined): Uint32Array {
  if (!mask) return order;
  let n = 0;
  for (let k = 0; k < order.length; k++) if (mask[order[k]]) n++;
  const out = new Uint32Array(n);
  for (let k = 0, j = 0; k < order.length; k++) if (mask[order[k]]) out[j++] = order[k];
  return out;
}

/** The filters of the table combined: states, the expression and a brush, as one mask. */
export function filterMask(
  store: PageStore,
  columns: TableColumn[],
  opts: { states?: Set<string>; expression?: string; brush?: Uint8Array },
): { mask: Uint8Array | undefined; error?: string } {
  const n = store.count;
  const states = opts.states && opts.states.size < STATE_NAMES.length ? opts.states : undefined;
  let pred: ((row: number) => boolean) | undefined;
  if (opts.expression?.trim()) {
    try {
      pred = compileFilter(opts.expression, filterSchema(store, columns));
    } catch (e) {
      return { mask: undefined, error: (e as Error).message };
    }
  }
  if (!states && !pred && !opts.brush) return { mask: undefined };
  const mask = new Uint8Array(n);
  for (let r = 0; r < n; r++) {
    if (states && !states.has(store.stateName(r))) continue;
    if (opts.brush && !opts.brush[r]) continue;
    if (pred && !pred(r)) continue;
    mask[r] = 1;
  }
  return { mask };
}
