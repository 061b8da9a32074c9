"""bench:reconcile -- healing a split study, measured as a user waits for it.

  npm run bench:reconcile -- [--trials 20000]

An SQLite fallback file holds one study whose --trials finished trials were all written during
an outage (each with the companion's unique id, params of three kinds, an intermediate value
and a user attribute). Measured, each as a whole process on a disposable redis-server:
1. `python3 -m enhanced_redis_storage reconcile` copying them into an empty Redis journal
   (with its read-back verification);
2. the same again: nothing to copy (the no-op re-run);
3. `optuna.copy_study` of the same study from the SQLite file into another journal prefix.
Both results are read back by plain Optuna and counted. Figures on a shared machine are
noisy: compare the ratio measured in the same run. Results go to bench/out/reconcile.json.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, "test", "python"))
sys.path.insert(0, os.path.join(REPO, "python"))

import optuna  # noqa: E402

import helpers  # noqa: E402
from enhanced_redis_storage.fallback import Fallback  # noqa: E402
from enhanced_redis_storage.identity import UID_KEY  # noqa: E402
from enhanced_redis_storage.identity import new_uid  # noqa: E402

optuna.logging.set_verbosity(optuna.logging.WARNING)

COPY_STUDY = """
import sys, warnings, optuna
warnings.simplefilter("ignore")
optuna.logging.set_verbosity(optuna.logging.WARNING)
optuna.copy_study(
    from_study_name="bench", from_storage=optuna.storages.RDBStorage("sqlite:///" + sys.argv[1]),
    to_storage=optuna.storages.JournalStorage(optuna.storages.JournalRedisStorage(sys.argv[2], prefix="copy")),
)
"""

COUNT = """
import sys, warnings, optuna
warnings.simplefilter("ignore")
s = optuna.load_study(study_name="bench", storage=optuna.storages.JournalStorage(
    optuna.storages.JournalRedisStorage(sys.argv[1], prefix=sys.argv[2])))
print(sum(1 for t in s.trials if t.state.name == "COMPLETE"))
"""


def env():
    return dict(os.environ, PYTHONPATH=os.path.join(REPO, "python"), PYTHONWARNINGS="ignore", PYTHONDONTWRITEBYTECODE="1")


def timed(args):
    t0 = time.monotonic()
    p = subprocess.run(args, capture_output=True, text=True, env=env())
    elapsed = time.monotonic() - t0
    if p.returncode != 0:
        raise SystemExit("%s failed (%d): %s" % (args[:4], p.returncode, p.stderr[-2000:]))
    return elapsed, p.stdout


def build_sqlite(path, n):
    fb = Fallback(path, 30.0)
    storage = fb.storage()
    study = optuna.create_study(storage=storage, study_name="bench", direction="minimize")
    dists = {
        "x": optuna.distributions.FloatDistribution(-10, 10),
        "n": optuna.distributions.IntDistribution(0, 100),
        "c": optuna.distributions.CategoricalDistribution(["a", "b", "c"]),
    }
    for i in range(n):
        x = (i % 2001) / 100.0 - 10
        study.add_trial(
            optuna.trial.create_trial(
                params={"x": x, "n": i % 101, "c": "abc"[i % 3]},
                distributions=dists,
                value=x * x,
                intermediate_values={0: x},
                user_attrs={"i": i},
                system_attrs={UID_KEY: new_uid()},
            )
        )
    fb.dispose()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--trials", type=int, default=20000)
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="osm-bench-reconcile-")
    server = helpers.RedisServer(persistent=False)
    py = helpers.PYTHON
    try:
        db = os.path.join(work, "optuna_fallback.db")
        t0 = time.monotonic()
        build_sqlite(db, args.trials)
        print("built %d SQLite-only trials in %.1f s" % (args.trials, time.monotonic() - t0), flush=True)
        load = list(os.getloadavg())
        cmd = [py, "-m", "enhanced_redis_storage", "reconcile", "--redis", server.url, "--prefix", "p", "--sqlite", db, "--json"]
        first_s, out = timed(cmd)
        first = json.loads(out)["totals"]
        again_s, out = timed(cmd)
        again = json.loads(out)["totals"]
        copy_s, _ = timed([py, "-c", COPY_STUDY, db, server.url])
        _, n_reconciled = timed([py, "-c", COUNT, server.url, "p"])
        _, n_copied = timed([py, "-c", COUNT, server.url, "copy"])
        result = {
            "optuna": optuna.__version__,
            "trials": args.trials,
            "load_average_at_start": load,
            "load_average_at_end": list(os.getloadavg()),
            "reconcile_s": round(first_s, 2),
            "reconcile_totals": first,
            "rerun_s": round(again_s, 2),
            "rerun_totals": again,
            "copy_study_s": round(copy_s, 2),
            "speedup_vs_copy_study": round(copy_s / first_s, 2),
            "complete_in_redis_after_reconcile": int(n_reconciled),
            "complete_in_redis_after_copy_study": int(n_copied),
        }
        assert first["copied"] == args.trials and again["copied"] == 0 and again["already"] == args.trials, result
        assert int(n_reconciled) == int(n_copied) == args.trials, result
        os.makedirs(os.path.join(HERE, "out"), exist_ok=True)
        with open(os.path.join(HERE, "out", "reconcile.json"), "w") as f:
            json.dump(result, f, indent=1)
        print(json.dumps(result, indent=1))
    finally:
        server.dispose()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
