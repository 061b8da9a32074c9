import type { Distribution } from './model';
import { type JsonObject, setOwn } from './pythonJsonParse';

/**
 * The param "shapes" of a TrialTable: what most trials share is stored once. The names and
 * distributions a trial has (like a hidden class) are one shared record, each param name has
 * one column of the table, and a row holds only its shape's number and one float per param.
 */

/** Param names and distributions a trial has, in the order it got them; shared by rows. */
export interface ParamShape {
  readonly names: readonly string[];
  readonly dists: readonly Distribution[];
  /** Per name: its param column. */
  readonly cols: readonly number[];
  /** The trials' `distributions` object: the same frozen object for every row of the shape. */
  readonly distributions: Readonly<Record<string, Distribution>>;
  readonly position: ReadonlyMap<string, number>;
}

/** The shapes as plain data (part of TrialTableData): distributions by their index. */
export interface ParamShapesData {
  shapes: Array<{ names: string[]; dists: number[] }>;
  dists: Distribution[];
  paramNames: string[];
}

export class ParamShapes {
  private readonly shapes: ParamShape[] = [];
  private readonly shapeIds = new Map<string, number>();
  /** Shape transitions already seen: `${shape}\0${distribution}\0${name}` → shape. */
  private readonly transitions = new Map<string, number>();
  private readonly dists: Distribution[] = [];
  private readonly distIds = new Map<Distribution, number>();
  /** The param column names, by column. */
  private readonly paramNames: string[] = [];
  private readonly paramColOf = new Map<string, number>();

  constructor(data?: ParamShapesData) {
    this.shape([], []); // shape 0: no params
    if (!data) return;
    data.paramNames.forEach((n, i) => {
      this.paramNames.push(n);
      this.paramColOf.set(n, i);
    });
    for (const d of data.dists) this.distId(d);
    for (const s of data.shapes.slice(1))
      this.shape(
        s.names,
        s.dists.map((i) => this.dists[i]),
      );
  }

  get(id: number): ParamShape {
    return this.shapes[id];
  }

  /** How many param columns the shapes use (a table keeps that many). */
  get columnCount(): number {
    return this.paramNames.length;
  }

  /** The param column of a name some shape has. */
  column(name: string): number {
    return this.paramColOf.get(name)!;
  }

  /**
   * The shape `from` becomes when a trial sets `name` with distribution `d`: the param added
   * last, or its distribution replaced in its place. Remembered, so a replay of many trials
   * with the same params builds each shape once.
   */
  withParam(from: number, name: string, d: Distribution): number {
    const tkey = `${from}\0${this.distId(d)}\0${name}`;
    let to = this.transitions.get(tkey);
    if (to === undefined) {
      const s = this.shapes[from];
      const at = s.position.get(name);
      const names = at === undefined ? [...s.names, name] : s.names;
      const dists = [...s.dists];
      if (at === undefined) dists.push(d);
      else dists[at] = d;
      to = this.shape(names, dists);
      this.transitions.set(tkey, to);
    }
    return to;
  }

  /** The shapes as plain data; the lists of distributions and names are the live ones. */
  toData(): ParamShapesData {
    return {
      shapes: this.shapes.map((s) => ({
        names: [...s.names],
        dists: s.dists.map((d) => this.distIds.get(d)!),
      })),
      dists: this.dists,
      paramNames: this.paramNames,
    };
  }

  private distId(d: Distribution): number {
    let id = this.distIds.get(d);
    if (id === undefined) {
      id = this.dists.length;
      this.dists.push(d);
      this.distIds.set(d, id);
    }
    return id;
  }

  private paramCol(name: string): number {
    let col = this.paramColOf.get(name);
    if (col === undefined) {
      col = this.paramNames.length;
      this.paramNames.push(name);
      this.paramColOf.set(name, col);
    }
    return col;
  }

  private shape(names: readonly string[], dists: readonly Distribution[]): number {
    const key = `${names.join('\0')}\0\0${dists.map((d) => this.distId(d)).join(',')}`;
    let id = this.shapeIds.get(key);
    if (id !== undefined) return id;
    id = this.shapes.length;
    const distributions: Record<string, Distribution> = {};
    names.forEach((n, i) => setOwn(distributions as unknown as JsonObject, n, dists[i] as never));
    this.shapes.push({
      names: [...names],
      dists: [...dists],
      cols: names.map((n) => this.paramCol(n)),
      distributions: Object.freeze(distributions),
      position: new Map(names.map((n, i) => [n, i])),
    });
    this.shapeIds.set(key, id);
    return id;
  }
}
