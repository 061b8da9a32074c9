// The importance worker's TypeScript source, run in a worker thread for the unit tests (the
// extension runs the bundled dist/importanceWorker.js).
require('tsx/cjs');
require('../../src/core/studyPage/importanceWorker.ts');
