import type { Distribution } from '../optuna/model';
import type { JsonValue } from '../optuna/pythonJsonParse';
import type { TrialTable } from '../optuna/trialTable';

/**
 * A trial's params set in name order, names compared as SQLite's BINARY collation compares
 * them (UTF-8 bytes; UTF-16 order differs beyond U+FFFF). Kept as flat columns and sorted
 * once: a study has few names, so each is ranked once, not compared per trial.
 */
export class ParamsByName {
  private readonly tables: TrialTable[] = [];
  private readonly tableIds = new Map<TrialTable, number>();
  private readonly names: string[] = [];
  private readonly nameIds = new Map<string, number>();
  private readonly table: number[] = [];
  private readonly row: number[] = [];
  private readonly name: number[] = [];
  private readonly dist: Distribution[] = [];
  private readonly internal: JsonValue[] = [];

  add(table: TrialTable, row: number, name: string, d: Distribution, internal: JsonValue): void {
    let t = this.tableIds.get(table);
    if (t === undefined) this.tableIds.set(table, (t = this.tables.push(table) - 1));
    let n = this.nameIds.get(name);
    if (n === undefined) this.nameIds.set(name, (n = this.names.push(name) - 1));
    this.table.push(t);
    this.row.push(row);
    this.name.push(n);
    this.dist.push(d);
    this.internal.push(internal);
  }

  set(): void {
    const rank = new Int32Array(this.names.length);
    this.names
      .map((n, i) => [Buffer.from(n, 'utf8'), i] as const)
      .sort((a, b) => Buffer.compare(a[0], b[0]))
      .forEach(([, i], r) => (rank[i] = r));
    const { table, row, name } = this;
    const order = Array.from(table.keys()).sort(
      (a, b) => table[a] - table[b] || row[a] - row[b] || rank[name[a]] - rank[name[b]],
    );
    for (const i of order)
      this.tables[table[i]].setParam(row[i], this.names[name[i]], this.dist[i], this.internal[i]);
  }
}
