"""A writer for the extension's stability suite: an optimizer on this package's storage, so
that the suite's failover and connection-recovery scenarios measure what real workers see.

``python3 -m enhanced_redis_storage suite-worker --redis URL --prefix P --sqlite PATH --study NAME
--worker N``; the password, if any, only in ``OPTUNA_STORAGE_REDIS_PASSWORD``. It asks and tells
trials (one float parameter, a 20 ms objective, a ``suite_token`` user attribute naming the
trial) until stdin says ``stop`` (or closes), and writes one JSON line per event on stdout:

* ``{"event": "trial", "token", "number", "value", "storage", "pending", "t"}`` after each
  told trial: ``storage`` is where the storage writes now (redis, sqlite, recovering, held),
  ``pending`` how many studies still have SQLite trials Redis lacks, ``t`` the Unix time;
* ``{"event": "done", "status", "errors"}`` at the end. With ``settle`` on stdin instead of
  ``stop``, it first waits (up to ``--settle-s``) until the storage is back on Redis and has
  reconciled what it wrote on SQLite, as a finished optimizer's storage would before exiting.

The suite reads the trials back from Redis by their tokens to count lost and duplicated ones.
"""

import argparse
import json
import sys
import threading
import time
import traceback
from typing import Any
from typing import Dict
from typing import List
from typing import Optional

TOKEN_ATTR = "suite_token"


def _emit(obj: Dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(prog="python3 -m enhanced_redis_storage suite-worker")
    ap.add_argument("--redis", required=True)
    ap.add_argument("--prefix", default="")
    ap.add_argument("--sqlite", required=True)
    ap.add_argument("--study", required=True)
    ap.add_argument("--worker", type=int, default=0)
    ap.add_argument("--settle-s", type=float, default=60.0)
    args = ap.parse_args(argv)

    import optuna

    from .storage import EnhancedRedisStorage

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    stop = threading.Event()
    settle = threading.Event()

    def read_stdin() -> None:
        for line in sys.stdin:
            if line.strip() == "settle":
                settle.set()
            if line.strip() in ("stop", "settle"):
                break
        stop.set()

    threading.Thread(target=read_stdin, daemon=True).start()
    errors: List[str] = []
    storage = EnhancedRedisStorage(args.redis, args.sqlite, prefix=args.prefix)
    try:
        study = optuna.create_study(
            storage=storage, study_name=args.study, sampler=optuna.samplers.RandomSampler(), load_if_exists=True
        )
        n = 0
        while not stop.is_set():
            trial = study.ask()
            n += 1
            token = "%d-%d" % (args.worker, n)
            trial.set_user_attr(TOKEN_ATTR, token)
            x = trial.suggest_float("x", -10, 10)
            time.sleep(0.02)
            study.tell(trial, x * x)
            _emit(
                {
                    "event": "trial",
                    "token": token,
                    "number": trial.number,
                    "value": x * x,
                    "storage": storage.current_storage,
                    "pending": len(storage.get_storage_status()["sqlite_pending_studies"]),
                    "t": time.time(),
                }
            )
    except Exception as e:  # reported to the suite, which fails the scenario with it
        errors.append("%s: %s\n%s" % (type(e).__name__, e, traceback.format_exc()[-1500:]))
    if settle.is_set():
        deadline = time.monotonic() + args.settle_s
        while time.monotonic() < deadline and (
            storage.current_storage != "redis" or storage.get_storage_status()["sqlite_pending_studies"]
        ):
            storage.sweep()
            time.sleep(0.1)
    _emit({"event": "done", "status": storage.get_storage_status(), "errors": errors})
    storage.close()
    return 1 if errors else 0
