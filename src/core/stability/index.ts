/**
 * The stability suite: can this Redis (and its SQLite fallback) carry a long Optuna search with
 * many workers? Headless — no console output, no `vscode` — so the CLI (`optuna-storage
 * suite`) and the VS Code Test Explorer drive the same code: list SCENARIOS, call runSuite
 * with hooks and an AbortSignal, write the reports.
 */
export { SCENARIOS, SCENARIO_IDS, PROMISES, parseScenarioList, scenarioInfo } from './scenarios';
export { runSuite } from './runner';
export { resolveOptions } from './suiteOptions';
export {
  jsonSummary,
  markdownReport,
  summaryRows,
  counts,
  writeReports,
  type SummaryRow,
} from './report';
export { SUITE_ROOT, removeLeftovers, runIdOfKey, runPrefix } from './namespace';
export type * from './types';
