"""A worker process for the fault tests and bench:writers: optimizes through
EnhancedRedisStorage, logs every completed trial (one JSON line each, flushed), and ends with a
summary line (slowest storage call, final storage status, any exception that escaped)."""

import argparse
import faulthandler
import json
import os
import sys
import threading
import time
import traceback

import optuna

optuna.logging.set_verbosity(optuna.logging.WARNING)

from enhanced_redis_storage import EnhancedRedisStorage  # noqa: E402
from enhanced_redis_storage.storage import SQLITE_ID_BASE  # noqa: E402

SLOW_MS = float(os.environ.get("OSM_WORKER_SLOW_MS", "500"))

STORAGE_METHODS = [
    "create_new_study", "delete_study", "set_study_user_attr", "set_study_system_attr",
    "get_study_id_from_name", "get_study_name_from_id", "get_study_directions",
    "get_study_user_attrs", "get_study_system_attrs", "get_all_studies", "create_new_trial",
    "set_trial_param", "get_trial_id_from_study_id_trial_number", "set_trial_state_values",
    "set_trial_intermediate_value", "set_trial_user_attr", "set_trial_system_attr", "get_trial",
    "get_all_trials",
]


class CallTimes:
    """Wall time of every storage call Optuna makes (a wrapper around the instance's methods)."""

    def __init__(self, storage):
        self.lock = threading.Lock()
        self.max_ms = 0.0
        self.slow = []  # calls over 500 ms: (end time, ms, method, storage state)
        self.calls = 0
        self.failed = 0
        # Where each trial's end was written: the storage's state right after the call that
        # wrote it. Read later (in Optuna's callback) it may already name the other storage:
        # Optuna reads the trial back between the two, and that read can be the one that
        # finds Redis gone.
        self.finished_on = {}
        for name in STORAGE_METHODS:
            setattr(storage, name, self._wrap(storage, getattr(storage, name), name))

    def _wrap(self, storage, fn, name):
        trace_after = float(os.environ.get("OSM_WORKER_TRACE_SLOW", "0"))

        def timed(*a, **k):
            t0 = time.monotonic()
            ok = True
            if trace_after:
                faulthandler.dump_traceback_later(trace_after, repeat=False)
            try:
                result = fn(*a, **k)
                if name == "set_trial_state_values":
                    state = a[1] if len(a) > 1 else k["state"]
                    if state.is_finished():
                        self.finished_on[a[0] if a else k["trial_id"]] = storage.current_storage
                return result
            except (KeyError, optuna.exceptions.DuplicatedStudyError):
                raise  # Optuna's own control flow (create_study with load_if_exists, lookups)
            except BaseException:
                ok = False
                raise
            finally:
                if trace_after:
                    faulthandler.cancel_dump_traceback_later()
                ms = (time.monotonic() - t0) * 1000
                with self.lock:
                    self.calls += 1
                    self.failed += 0 if ok else 1
                    if ms > self.max_ms:
                        self.max_ms = ms
                    if ms > SLOW_MS:
                        self.slow.append([time.time(), round(ms, 1), name, storage.current_storage])

        return timed


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--prefix", default="")
    ap.add_argument("--sqlite", required=True)
    ap.add_argument("--study", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--trials", type=int, default=None)
    ap.add_argument("--seconds", type=float, default=None)
    ap.add_argument("--stop-file", default=None)
    ap.add_argument("--sleep", type=float, default=0.02, help="seconds per objective")
    ap.add_argument("--steps", type=int, default=2, help="intermediate values per trial")
    ap.add_argument("--n-jobs", type=int, default=1)
    ap.add_argument("--sampler", default="tpe")
    ap.add_argument("--sentinels", default=None)
    ap.add_argument("--sentinel-master", default=None)
    ap.add_argument("--pickled", default=None, help="a pickled storage to use instead")
    ap.add_argument("--plain", action="store_true", help="Optuna's JournalRedisStorage instead")
    args = ap.parse_args()

    out = open(args.log, "a", buffering=1)
    out_lock = threading.Lock()

    def log(obj):
        with out_lock:
            out.write(json.dumps(obj) + "\n")

    if args.plain:
        # Optuna's own journal storage, for the happy-path comparison in bench:writers.
        try:
            from optuna.storages.journal import JournalRedisBackend as Backend
        except ImportError:
            from optuna.storages import JournalRedisStorage as Backend
        import warnings

        warnings.simplefilter("ignore")
        storage = optuna.storages.JournalStorage(Backend(args.url, prefix=args.prefix))
        storage.current_storage = "redis"
        storage.get_storage_status = lambda: {"current_storage": "redis", "plain": True, "reconcile_problems": [], "sqlite_pending_studies": []}
        storage.sweep = lambda: 0
        storage.close = lambda: None
    elif args.pickled:
        import pickle

        with open(args.pickled, "rb") as f:
            storage = pickle.load(f)
    else:
        opts = {}
        if args.sentinels:
            opts = {"sentinels": args.sentinels, "sentinel_master": args.sentinel_master}
        storage = EnhancedRedisStorage(args.url, args.sqlite, prefix=args.prefix, **opts)
    times = CallTimes(storage)
    sampler = optuna.samplers.RandomSampler() if args.sampler == "random" else optuna.samplers.TPESampler(n_startup_trials=5)
    log({"event": "start", "pid": os.getpid(), "t": time.time(), "optuna": optuna.__version__})
    counter = [0]
    counter_lock = threading.Lock()
    errors = []

    def objective(trial):
        with counter_lock:
            counter[0] += 1
            token = "%d-%d" % (os.getpid(), counter[0])
        # Where this trial was created: what "the next trial runs on SQLite" / "new trials land
        # in Redis again" are measured by.
        log({"event": "begin", "t": time.time(), "where": "sqlite" if trial._trial_id >= SQLITE_ID_BASE else "redis"})
        trial.set_user_attr("token", token)
        x = trial.suggest_float("x", -10, 10)
        y = trial.suggest_int("y", 0, 10)
        for step in range(args.steps):
            trial.report(x * x + step, step)
        time.sleep(args.sleep)
        return x * x + y

    def on_trial(study, frozen):
        log({
            "event": "trial",
            "token": frozen.user_attrs.get("token"),
            "number": frozen.number,
            "state": frozen.state.name,
            "value": frozen.value,
            "params": frozen.params,
            "t": time.time(),
            "storage": times.finished_on.pop(frozen._trial_id, storage.current_storage),
        })
        if args.stop_file and os.path.exists(args.stop_file):
            study.stop()

    try:
        study = optuna.create_study(storage=storage, study_name=args.study, sampler=sampler, load_if_exists=True)
        deadline = time.time() + args.seconds if args.seconds else None
        while True:
            study.optimize(
                objective,
                n_trials=args.trials,
                timeout=(deadline - time.time()) if deadline else None,
                n_jobs=args.n_jobs,
                callbacks=[on_trial],
            )
            if args.trials is not None or deadline is None or time.time() >= deadline:
                break
            if args.stop_file and os.path.exists(args.stop_file):
                break
    except BaseException as e:  # the test asserts that nothing escapes
        errors.append("%s: %s\n%s" % (type(e).__name__, e, traceback.format_exc()[-2000:]))
    # Let the storage return to Redis (and reconcile) before reporting, when it can.
    if args.stop_file:
        deadline = time.time() + 30
        while storage.current_storage not in ("redis", "held") and time.time() < deadline:
            time.sleep(0.1)
        settle = time.time() + 10
        while storage.get_storage_status()["sqlite_pending_studies"] and time.time() < settle:
            storage.sweep()
            time.sleep(0.2)
    log({
        "event": "summary",
        "pid": os.getpid(),
        "max_call_ms": round(times.max_ms, 1),
        "slow_calls": times.slow,
        "calls": times.calls,
        "failed_calls": times.failed,
        "status": storage.get_storage_status(),
        "errors": errors,
        "t": time.time(),
    })
    storage.close()
    out.close()
    sys.exit(1 if errors else 0)


if __name__ == "__main__":
    main()
