import type { Study } from '../model';
import { JournalRecords } from './records';

/**
 * The journal records `optuna.copy_study` writes for a study, one JSON text per record:
 * CREATE_STUDY, each study system attribute, each user attribute, then one CREATE_TRIAL per
 * trial (by number) carrying the whole trial as a template. `studyId` is the id the study
 * gets where the records are replayed.
 */
export function copyStudyRecords(study: Study, studyId: number, workerId: string): string[] {
  const w = new JournalRecords(workerId);
  return [w.createStudy(study.name, study.directions), ...copyStudyContents(study, studyId, w)];
}

/** The records after CREATE_STUDY: study system attributes, user attributes, trials. */
export function copyStudyContents(study: Study, studyId: number, w: JournalRecords): string[] {
  return [
    ...Object.entries(study.systemAttrs).map(([k, v]) => w.setStudySystemAttr(studyId, k, v)),
    ...Object.entries(study.userAttrs).map(([k, v]) => w.setStudyUserAttr(studyId, k, v)),
    ...study.trials.map((t) => w.createTrialFromTemplate(studyId, t)),
  ];
}
