import * as assert from 'node:assert';
import { distributionFromJsonValue } from '../../src/core/optuna/distributions';
import type { Distribution } from '../../src/core/optuna/model';
import { parsePyJson } from '../../src/core/optuna/pythonJsonParse';
import { type ImportanceInput, pedAnova } from '../../src/core/studyPage/pedAnova';
import { optunaSources } from '../helpers/optunaSources';
import { runPython } from '../helpers/python';

interface Case {
  name: string;
  directions: string[];
  trials: Array<{
    state: string;
    values: Array<number | string> | null;
    params: Record<string, number>;
    distributions: Record<string, string>;
  }>;
  expected: Array<Record<string, number>>;
}

/** The page's importance input from the trials Optuna dumped: COMPLETE trials, as columns. */
function inputOf(c: Case, loss: (values: number[]) => number): ImportanceInput {
  const complete = c.trials.filter((t) => t.state === 'COMPLETE');
  const names = [...new Set(complete.flatMap((t) => Object.keys(t.params)))];
  return {
    loss: Float64Array.from(complete, (t) => loss(t.values!.map(Number))),
    params: names.map((name) => {
      const dists: Distribution[] = [];
      const codes = new Map<string, number>();
      const dist = new Int32Array(complete.length).fill(-1);
      const internal = new Float64Array(complete.length).fill(NaN);
      complete.forEach((t, i) => {
        const text = t.distributions[name];
        if (text === undefined) return;
        let code = codes.get(text);
        if (code === undefined) {
          code = dists.length;
          dists.push(distributionFromJsonValue(parsePyJson(text)));
          codes.set(text, code);
        }
        dist[i] = code;
        internal[i] = t.params[name];
      });
      return { name, internal, dist, dists };
    }),
  };
}

describe('PED-ANOVA importance against real Optuna 5 (PedAnovaImportanceEvaluator)', function () {
  this.timeout(120_000);
  let cases: Case[] = [];
  let optuna = '';

  before(async function () {
    const src = optunaSources('5.0.0-rc1');
    if (!src.dir) {
      console.log(`      skipped: ${src.reason}`);
      this.skip();
    }
    const out = JSON.parse(
      await runPython('ped_anova_reference.py', [], 120_000, { PYTHONPATH: src.dir }),
    ) as { optuna: string; cases: Case[] };
    cases = out.cases;
    optuna = out.optuna;
    assert.match(optuna, /^5\./);
  });

  it('matches Optuna on every fixture study, each param within 1e-9', () => {
    assert.ok(cases.length >= 7);
    for (const c of cases) {
      const targets =
        c.expected.length === 1
          ? [(v: number[]) => (c.directions[0] === 'MAXIMIZE' ? -v[0] : v[0])]
          : c.directions.map((d, i) => (v: number[]) => (d === 'MAXIMIZE' ? -v[i] : v[i]));
      targets.forEach((loss, k) => {
        const got = pedAnova(inputOf(c, loss));
        const want = c.expected[k];
        assert.deepStrictEqual(
          got.params.map((p) => p.name).sort(),
          Object.keys(want).sort(),
          `${c.name}: params`,
        );
        for (const p of got.params)
          assert.ok(
            Math.abs(p.importance - want[p.name]) < 1e-9,
            `${c.name} (objective ${k}): ${p.name} = ${p.importance}, Optuna ${want[p.name]}`,
          );
        // Most important first, as get_param_importances orders them.
        for (let i = 1; i < got.params.length; i++)
          assert.ok(got.params[i - 1].importance >= got.params[i].importance);
      });
    }
  });
});

describe('PED-ANOVA edge cases', () => {
  const dist = (low: number, high: number): Distribution => ({
    name: 'FloatDistribution',
    attributes: { low, high, log: false, step: null },
  });

  it('gives equal importances with fewer than two finite trials, and says why', () => {
    const r = pedAnova({
      loss: Float64Array.of(1, NaN, Infinity),
      params: ['a', 'b'].map((name) => ({
        name,
        internal: Float64Array.of(0.1, 0.2, 0.3),
        dist: Int32Array.of(0, 0, 0),
        dists: [dist(0, 1)],
      })),
    });
    assert.deepStrictEqual(
      r.params.map((p) => p.importance),
      [0.5, 0.5],
    );
    assert.match(r.note!, /too few/);
  });

  it('ranks the params that drive the value first, on 100,000 trials × 20 params', () => {
    const n = 100_000;
    const loss = new Float64Array(n);
    const params = Array.from({ length: 20 }, (_v, j) => ({
      name: `p${j}`,
      internal: new Float64Array(n),
      dist: new Int32Array(n),
      dists: [dist(0, 1)],
    }));
    let seed = 1;
    const rnd = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
    for (let i = 0; i < n; i++) {
      for (const p of params) p.internal[i] = rnd();
      loss[i] = params[0].internal[i] * 3 + params[1].internal[i];
    }
    const r = pedAnova({ loss, params });
    assert.strictEqual(r.trials, n);
    assert.strictEqual(r.params[0].name, 'p0');
    assert.strictEqual(r.params[1].name, 'p1');
    assert.ok(r.params[0].importance > 0.5, JSON.stringify(r.params.slice(0, 3)));
  });
});
