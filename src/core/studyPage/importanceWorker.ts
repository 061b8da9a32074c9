// The worker thread behind ImportanceService: PED-ANOVA for each objective, so that the
// extension host's main thread never waits for it. Bundled to dist/importanceWorker.js.
import { parentPort } from 'node:worker_threads';
import type { ImportanceJob, ImportanceReply } from './importance';
import { pedAnova } from './pedAnova';

parentPort?.on('message', (job: ImportanceJob) => {
  const t0 = performance.now();
  const results = job.objectives.map(pedAnova);
  const reply: ImportanceReply = { results, ms: performance.now() - t0 };
  parentPort!.postMessage(reply);
});
