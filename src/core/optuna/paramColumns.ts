import { toExternal } from './distributions';
import { grown } from './growColumn';
import type { Distribution } from './model';
import { type ParamShape, ParamShapes, type ParamShapesData } from './paramShapes';
import { type JsonObject, type JsonValue, setOwn } from './pythonJsonParse';

/**
 * The params of a TrialTable's trials: per row its shape (names and distributions, shared,
 * see paramShapes) and one float per param, the internal value as Optuna stores it. A value
 * that is not a float (a categorical choice's index is; a bigint is not) is kept as its
 * external value on the side. The table flags the rows that have side params, so reading
 * the others skips the look-up: callers pass that flag in and get it back.
 */

/** The params as plain data (part of TrialTableData). */
export interface ParamColumnsData extends ParamShapesData {
  shapeOf: Uint32Array;
  paramCols: Float64Array[];
  sideParams: Map<number, JsonObject>;
}

export class ParamColumns {
  private shapeOf: Uint32Array;
  private cols: Float64Array[];
  private readonly side: Map<number, JsonObject>;
  private readonly shapes: ParamShapes;

  constructor(data?: ParamColumnsData) {
    this.shapeOf = data?.shapeOf ?? new Uint32Array(0);
    this.cols = data?.paramCols ?? [];
    this.side = data?.sideParams ?? new Map();
    this.shapes = new ParamShapes(data);
  }

  /** Makes room for `capacity` rows (the table's capacity). */
  grow(capacity: number): void {
    this.shapeOf = grown(this.shapeOf, capacity);
    this.cols = this.cols.map((c) => grown(c, capacity));
  }

  shape(row: number): ParamShape {
    return this.shapes.get(this.shapeOf[row]);
  }

  /**
   * Sets a param (new, or replacing the value and distribution of one the trial has, which
   * keeps its place) from the internal value Optuna stores; throws, changing nothing, on a
   * value the distribution cannot hold. Returns whether the row has side params now.
   */
  set(row: number, name: string, d: Distribution, internal: JsonValue, hasSide: boolean): boolean {
    const external = toExternal(d, internal); // throws on what Optuna would refuse
    this.shapeOf[row] = this.shapes.withParam(this.shapeOf[row], name, d);
    while (this.cols.length < this.shapes.columnCount)
      this.cols.push(new Float64Array(this.shapeOf.length));
    const col = this.shapes.column(name);
    const side = hasSide ? this.side.get(row) : undefined;
    if (typeof internal === 'number') {
      this.cols[col][row] = internal;
      if (side && name in side) {
        delete side[name];
        if (Object.keys(side).length === 0) {
          this.side.delete(row);
          return false;
        }
      }
      return side !== undefined;
    }
    const entry = side ?? {};
    setOwn(entry, name, external);
    this.side.set(row, entry);
    return true;
  }

  /** Drops every param of the row (a new row; an exact re-read sets them again). */
  clear(row: number): void {
    this.shapeOf[row] = 0;
    this.side.delete(row);
  }

  get(row: number, hasSide: boolean): Record<string, JsonValue> {
    const s = this.shapes.get(this.shapeOf[row]);
    const side = hasSide ? this.side.get(row) : undefined;
    const out: Record<string, JsonValue> = {};
    for (let i = 0; i < s.names.length; i++) {
      const name = s.names[i];
      const v =
        side && name in side ? side[name] : toExternal(s.dists[i], this.cols[s.cols[i]][row]);
      setOwn(out, name, v);
    }
    return out;
  }

  /** The first `length` rows' columns (copies), the shapes and the side map, as plain data. */
  toData(length: number): ParamColumnsData {
    return {
      shapeOf: this.shapeOf.slice(0, length),
      ...this.shapes.toData(),
      paramCols: this.cols.map((c) => c.slice(0, length)),
      sideParams: this.side,
    };
  }
}
