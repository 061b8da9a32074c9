import type { Study } from './model';
import { tableOf, tableStudy } from './tableStudy';
import { TrialRow } from './trialTable';
import { TrialTable, type TrialTableData } from './trialTable';

/** A study as plain data for another thread: its own fields, and its trials' table. */
export interface StudyData {
  study: Omit<Study, 'trials'>;
  table?: TrialTableData;
  /** The rows in the study's trial order, when that is not row order. */
  order?: Int32Array;
}

/** A study of TrialRows (or none) as StudyData; the table's columns are copies. */
export function studyData(s: Study): StudyData {
  const { studyId, name, directions, userAttrs, systemAttrs } = s;
  const study = { studyId, name, directions, userAttrs, systemAttrs };
  const bound = tableOf(s);
  if (bound) return { study, table: bound.toData() };
  if (s.trials.length === 0) return { study };
  const rows = s.trials as readonly TrialRow[];
  const table = rows[0].table;
  if (!rows.every((t) => t instanceof TrialRow && t.table === table))
    throw new Error(`study ${s.name}: its trials are not the rows of one table`);
  return { study, table: table.toData(), order: Int32Array.from(rows, (t) => t.row) };
}

/** The study StudyData describes, its trials rows of a table rebuilt from the data. */
export function studyFromData(d: StudyData): Study {
  if (!d.table) return { ...d.study, trials: [] };
  const table = new TrialTable(d.study.studyId, d.table);
  if (!d.order) return tableStudy({ ...d.study }, table);
  return { ...d.study, trials: Array.from(d.order, (r) => table.rows[r]) };
}

/** The buffers of a StudyData's columns, to transfer rather than copy to another thread. */
export function studyDataBuffers(d: StudyData): ArrayBuffer[] {
  const out: ArrayBuffer[] = [];
  const add = (v: unknown) => {
    if (ArrayBuffer.isView(v) && v.buffer instanceof ArrayBuffer) out.push(v.buffer);
  };
  if (d.table) for (const v of Object.values(d.table)) (Array.isArray(v) ? v : [v]).forEach(add);
  add(d.order);
  return [...new Set(out)];
}
