// The extension-host benchmark (bench/extensionHost.ts sets OSM_BENCH_OUT and opens a
// workspace whose settings point at a large study, 100,000 trials by default). Registers
// nothing otherwise.
import * as fs from 'fs';
import * as vscode from 'vscode';
import type { ExtensionApi } from '../../../src/extension';
import { JournalRecords } from '../../../src/core/optuna/journal/records';
import { appendJournalBatch } from '../../../src/core/optuna/journal/redisLog';
import Redis from 'ioredis';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const manifest = require('../../../package.json') as { publisher: string; name: string };
const out = process.env.OSM_BENCH_OUT;

if (out) {
  describe('extension-host benchmark', function () {
    this.timeout(300_000);
    it('measures activation to first studies, pages, refreshes and memory of a large study', async () => {
      const api = await vscode.extensions
        .getExtension<ExtensionApi>(`${manifest.publisher}.${manifest.name}`)!
        .activate();
      while (api.store.firstStudiesAt === undefined) await new Promise((r) => setTimeout(r, 10));
      const firstStudiesMs = api.store.firstStudiesAt - api.activatedAt;
      // The first studies may be a part of the journal (a first read cut short, e.g. by a
      // health check timing out while the host replays, goes on in the next read, which a
      // visible view asks for): the study is whole once it has all its trials, and only then
      // are refreshes incremental.
      const expected = Number(process.env.OSM_BENCH_TRIALS);
      const largest = () =>
        api.store.studies().reduce((a, b) => (b.trials.length > a.trials.length ? b : a));
      const partialTrials = largest().trials.length;
      // Why the first read stopped short, when it did (the reader's error, or the link's state).
      const partialCause =
        partialTrials < expected
          ? `${api.store.lastError ?? 'no error'}; store ${api.store.state.state}: ${api.store.state.detail}`
          : undefined;
      while (largest().trials.length < expected) await api.refresh.refresh('shown');
      const wholeStudyMs = Date.now() - api.activatedAt;
      const study = largest();
      const t0 = performance.now();
      const node = api.studies
        .getChildren(
          api.studies
            .getChildren(api.studies.getChildren().find((n) => n.kind === 'server'))
            .find((n) => n.kind === 'prefix'),
        )
        .find((n) => n.kind === 'study' && n.study.key === study.key)!;
      api.studies.getTreeItem(node); // the study's row: trial counts, best value
      api.studies.getChildren(node).map((n) => api.studies.getTreeItem(n));
      const firstPageMs = performance.now() - t0;

      // The Trials view of the study, sorted by best value: its first page.
      api.trials.show(study.key);
      api.trials.setSort('best');
      const t1 = performance.now();
      const bestPage = api.trials.getChildren().map((n) => api.trials.getTreeItem(n));
      const sortBestMs = performance.now() - t1;
      if (bestPage.length === 0) throw new Error('the Trials view sorted by best value is empty');

      const redis = new Redis(api.store.settings.redisUrl);
      const prefix = api.store.settings.prefixes![0];
      const writer = new JournalRecords('bench');
      const refreshMs: number[] = [];
      const renderMs: number[] = [];
      for (let run = 0; run < 10; run++) {
        const records = Array.from({ length: 100 }, (_, i) =>
          writer.setTrialSystemAttr(run, `k${i}`, BigInt(i)),
        );
        await appendJournalBatch(redis, prefix, records);
        const a = performance.now();
        await api.refresh.refresh('shown');
        refreshMs.push(performance.now() - a);
        const b = performance.now();
        const s = api.store.studies().find((x) => x.key === study.key)!;
        api.studies
          .getChildren({ kind: 'study', id: `study:${s.key}`, study: s })
          .map((n) => api.studies.getTreeItem(n));
        renderMs.push(performance.now() - b);
      }
      redis.disconnect();
      // This extension host's memory (it runs only this extension and the test): peak and now.
      const status = fs.readFileSync('/proc/self/status', 'utf8');
      const mb = (key: string) =>
        Number(new RegExp(`${key}:\\s+(\\d+) kB`).exec(status)?.[1]) / 1024;
      fs.writeFileSync(
        out,
        JSON.stringify({
          trials: study.trials.length,
          firstStudiesMs,
          partialTrials,
          partialCause,
          wholeStudyMs,
          firstPageMs,
          sortBestMs,
          refreshMs,
          renderMs,
          peakRssMb: mb('VmHWM'),
          rssMb: mb('VmRSS'),
          heapUsedMb: process.memoryUsage().heapUsed / 2 ** 20,
        }),
      );
    });
  });
}
