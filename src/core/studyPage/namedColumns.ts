import { isLog, isNumeric, pyEquals } from '../optuna/distributions';
import type { Distribution, Trial } from '../optuna/model';
import type { JsonValue } from '../optuna/pythonJsonParse';
import { toStrictJson } from '../optuna/strictJson';
import { labelOf, numberLike, toNumber } from './cellValues';
import { Dictionary, type Growable, type Take, f64, i32 } from './growable';
import type {
  ColumnKind,
  DictionaryAppend,
  ParamMeta,
  UserAttrMeta,
  ValueColumn,
} from './protocol';

/** A param (or user-attribute) column on the host. */
interface HostColumn {
  meta: ParamMeta | UserAttrMeta;
  num: Growable<Float64Array>;
  cat: Growable<Int32Array>;
  /** Params only: code into `dists` per row (-1: the row does not have this param). */
  dist?: Growable<Int32Array>;
  dists?: Distribution[];
  distCodes?: Map<string, number>;
  /** The distribution objects seen (the replay shares one per distinct text): code and kind. */
  distByObject?: Map<Distribution, { code: number; numeric: boolean }>;
  labels: Dictionary;
  /** Kind changed since it was last sent. */
  kindDirty: boolean;
}

/** The named columns' part of a dictionary append (the workers' names are trialColumns'). */
export type NamedAppend = Omit<DictionaryAppend, 'workers'>;

/**
 * The study page's params and user attributes: one column per name, made when a trial first
 * has it, as long as the page's cell budget allows (the names left out are listed in the
 * notes). A column's kind (float, int, categorical, text, mixed) follows the distributions
 * and values seen, and a change is sent again.
 */
export class NamedColumns {
  private readonly params: HostColumn[] = [];
  private readonly paramIds = new Map<string, number>();
  private readonly userAttrs: HostColumn[] = [];
  private readonly userIds = new Map<string, number>();
  private readonly leftOutParams = new Set<string>();
  private readonly leftOutAttrs = new Set<string>();
  private paramsSent = 0;
  private userSent = 0;

  constructor(private readonly cellBudget: number) {}

  reset(): void {
    this.params.length = 0;
    this.paramIds.clear();
    this.userAttrs.length = 0;
    this.userIds.clear();
    this.leftOutParams.clear();
    this.leftOutAttrs.clear();
    this.paramsSent = 0;
    this.userSent = 0;
  }

  /**
   * Writes a trial's params and user attributes into `row`, the table having `rows` rows and
   * room for `capacity` (what a new column starts with). `rewritten`: the row showed a trial
   * before, so a param the trial no longer has must not keep its old value.
   */
  encode(row: number, t: Trial, rows: number, capacity: number, rewritten: boolean): void {
    const params = t.params;
    const distributions = t.distributions;
    const userAttrs = t.userAttrs;
    for (const name in params)
      this.encodeParam(row, rows, capacity, name, params[name], distributions[name]);
    for (const name in userAttrs) this.encodeUserAttr(row, rows, capacity, name, userAttrs[name]);
    if (rewritten)
      for (const p of this.params)
        if (!(p.meta.name in params)) {
          p.num.set(row, NaN);
          p.cat.set(row, -1);
          p.dist!.set(row, -1);
        }
  }

  private admit(ids: Map<string, number>, cols: HostColumn[], name: string, rows: number): boolean {
    const columns = this.params.length + this.userAttrs.length + 1;
    if (columns * Math.max(rows, 1000) > this.cellBudget) return false;
    ids.set(name, cols.length);
    return true;
  }

  private encodeParam(
    row: number,
    rows: number,
    capacity: number,
    name: string,
    v: JsonValue,
    d: Distribution | undefined,
  ): void {
    let id = this.paramIds.get(name);
    if (id === undefined) {
      if (this.leftOutParams.has(name) || !this.admit(this.paramIds, this.params, name, rows)) {
        this.leftOutParams.add(name);
        return;
      }
      id = this.params.length;
      this.params.push({
        meta: { name, kind: d ? kindOf(d) : 'float', log: d ? isLog(d) : false },
        num: f64(NaN, capacity),
        cat: i32(-1, capacity),
        dist: i32(-1, capacity),
        dists: [],
        distCodes: new Map(),
        distByObject: new Map(),
        labels: new Dictionary(),
        kindDirty: false,
      });
    }
    const col = this.params[id];
    if (!d) return;
    let known = col.distByObject!.get(d);
    if (!known) {
      known = { code: this.distCode(col, d), numeric: isNumeric(d) };
      col.distByObject!.set(d, known);
    }
    col.dist!.set(row, known.code);
    if (known.numeric) {
      col.num.set(row, toNumber(v));
      col.cat.set(row, -1);
    } else {
      const choices = d.attributes.choices as JsonValue[];
      col.num.set(
        row,
        choices.findIndex((c) => pyEquals(c, v)),
      );
      col.cat.set(row, col.labels.code(labelOf(v)));
    }
  }

  /** The column's code of a distribution (equal ones share it), noting kind and bounds. */
  private distCode(col: HostColumn, d: Distribution): number {
    const meta = col.meta as ParamMeta;
    const key = toStrictJson({ n: d.name, a: d.attributes });
    let dc = col.distCodes!.get(key);
    if (dc === undefined) {
      dc = col.dists!.length;
      col.dists!.push(d);
      col.distCodes!.set(key, dc);
      const kind = kindOf(d);
      if (kind !== meta.kind && meta.kind !== 'mixed') {
        meta.kind = numericKind(kind) && numericKind(meta.kind) ? 'float' : 'mixed';
        col.kindDirty = true;
      }
      if (!isLog(d) && meta.log) {
        meta.log = false;
        col.kindDirty = true;
      }
      if (isNumeric(d)) {
        const lo = toNumber(d.attributes.low);
        const hi = toNumber(d.attributes.high);
        if (meta.low === undefined || lo < meta.low) {
          meta.low = lo;
          col.kindDirty ||= dc > 0;
        }
        if (meta.high === undefined || hi > meta.high) {
          meta.high = hi;
          col.kindDirty ||= dc > 0;
        }
      }
    }
    return dc;
  }

  private encodeUserAttr(
    row: number,
    rows: number,
    capacity: number,
    name: string,
    v: JsonValue,
  ): void {
    let id = this.userIds.get(name);
    if (id === undefined) {
      if (this.leftOutAttrs.has(name) || !this.admit(this.userIds, this.userAttrs, name, rows)) {
        this.leftOutAttrs.add(name);
        return;
      }
      id = this.userAttrs.length;
      this.userAttrs.push({
        meta: { name, kind: numberLike(v) ? 'float' : 'text' },
        num: f64(NaN, capacity),
        cat: i32(-1, capacity),
        labels: new Dictionary(),
        kindDirty: false,
      });
    }
    const col = this.userAttrs[id];
    const numeric = numberLike(v);
    if ((numeric ? 'float' : 'text') !== col.meta.kind && col.meta.kind !== 'mixed') {
      col.meta.kind = 'mixed';
      col.kindDirty = true;
    }
    if (numeric) {
      col.num.set(row, toNumber(v));
      col.cat.set(row, -1);
    } else {
      col.num.set(row, NaN);
      col.cat.set(row, col.labels.code(typeof v === 'string' ? v : toStrictJson(v)));
    }
  }
  /** Columns not sent yet, or whose kind changed since. */
  kindsDirty(): boolean {
    return (
      this.params.length > this.paramsSent ||
      this.userAttrs.length > this.userSent ||
      this.params.some((p) => p.kindDirty) ||
      this.userAttrs.some((p) => p.kindDirty)
    );
  }

  /** The columns and labels the page does not have yet (then counted as sent). */
  dictAppend(): NamedAppend {
    const d: NamedAppend = {
      params: this.params.slice(this.paramsSent).map((p) => ({ ...(p.meta as ParamMeta) })),
      paramLabels: {},
      userAttrs: this.userAttrs.slice(this.userSent).map((p) => ({ ...p.meta })),
      userLabels: {},
    };
    this.params.forEach((p, id) => {
      const l = p.labels.unsent();
      if (l.length) d.paramLabels[id] = l;
      if (p.kindDirty && id < this.paramsSent)
        (d.paramsChanged ??= {})[id] = { ...(p.meta as ParamMeta) };
      p.kindDirty = false;
    });
    this.userAttrs.forEach((p, id) => {
      const l = p.labels.unsent();
      if (l.length) d.userLabels[id] = l;
      if (p.kindDirty && id < this.userSent) (d.userAttrsChanged ??= {})[id] = { ...p.meta };
      p.kindDirty = false;
    });
    this.paramsSent = this.params.length;
    this.userSent = this.userAttrs.length;
    return d;
  }
  /** Every column's cells of `take`'s rows: numbers or label codes, as its kind needs. */
  block(take: Take): { params: ValueColumn[]; userAttrs: ValueColumn[] } {
    const col = (c: HostColumn, id: number): ValueColumn => {
      const k = c.meta.kind;
      return {
        id,
        num: k === 'categorical' || k === 'text' ? undefined : take(c.num),
        cat: k === 'float' || k === 'int' ? undefined : take(c.cat),
      };
    };
    return { params: this.params.map(col), userAttrs: this.userAttrs.map(col) };
  }

  /** The params' first `n` cells as numbers (the choice's index for a categorical one). */
  numericParams(
    n: number,
  ): Array<{ name: string; num: Float64Array; dist: Int32Array; dists: Distribution[] }> {
    return this.params.map((p) => ({
      name: p.meta.name,
      num: p.num.data.subarray(0, n),
      dist: p.dist!.data.subarray(0, n),
      dists: p.dists!,
    }));
  }

  /** What the page leaves out and why, for a table of `rows` rows. */
  notes(rows: number): string[] {
    const out: string[] = [];
    const list = (s: Set<string>) => {
      const names = [...s].slice(0, 8).join(', ');
      return s.size > 8 ? `${names} and ${s.size - 8} more` : names;
    };
    if (this.leftOutParams.size)
      out.push(
        `${this.leftOutParams.size} of ${this.leftOutParams.size + this.params.length} params are left out of the table and plots to keep ${rows.toLocaleString('en-US')} rows fast (${list(this.leftOutParams)}); each trial's details still list them.`,
      );
    if (this.leftOutAttrs.size)
      out.push(
        `${this.leftOutAttrs.size} user attributes are left out of the table (${list(this.leftOutAttrs)}); each trial's details still list them.`,
      );
    for (const p of this.params)
      if (p.meta.kind === 'mixed')
        out.push(
          `Param "${p.meta.name}" changes type between trials (${p.dists!.map((d) => d.name.replace('Distribution', '')).join(', ')}): numbers are plotted, the other values only listed.`,
        );
    return out;
  }
}

function kindOf(d: Distribution): ColumnKind {
  if (d.name === 'CategoricalDistribution') return 'categorical';
  return /^Int/.test(d.name) ? 'int' : 'float';
}

function numericKind(k: ColumnKind): boolean {
  return k === 'int' || k === 'float';
}
