"""Reads a study back with plain Optuna (the release on PYTHONPATH), from the Redis journal and
optionally from the SQLite file, and prints what the tests compare: every trial, and
duplicated raw journal records."""

import argparse
import json
import warnings

import optuna
import redis

optuna.logging.set_verbosity(optuna.logging.WARNING)
warnings.simplefilter("ignore")


def journal_storage(url, prefix):
    try:
        from optuna.storages.journal import JournalRedisBackend as Backend
    except ImportError:
        from optuna.storages import JournalRedisStorage as Backend
    return optuna.storages.JournalStorage(Backend(url, prefix=prefix))


def dump(study):
    out = []
    for t in study.trials:
        out.append({
            "number": t.number,
            "state": t.state.name,
            "values": t.values,
            "params": t.params,
            "token": t.user_attrs.get("token"),
            "user_attrs": t.user_attrs,
            "uid": t.system_attrs.get("enhanced_redis_storage:uid"),
            "start": t.datetime_start.isoformat() if t.datetime_start else None,
            "complete": t.datetime_complete.isoformat() if t.datetime_complete else None,
            "intermediate": {str(k): v for k, v in t.intermediate_values.items()},
        })
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--prefix", default="")
    ap.add_argument("--study", required=True)
    ap.add_argument("--sqlite", default=None)
    a = ap.parse_args()
    r = redis.Redis.from_url(a.url)
    n = r.get("%s:log_number" % a.prefix)
    raw = []
    if n is not None:
        keys = ["%s:log:%d" % (a.prefix, i) for i in range(int(n) + 1)]
        for i in range(0, len(keys), 1000):
            raw.extend(r.mget(keys[i:i + 1000]))
    present = [x for x in raw if x is not None]
    first_gap = next((i for i, x in enumerate(raw) if x is None), None)
    result = {
        "optuna": optuna.__version__,
        "journal_entries": len(raw),
        "journal_gaps": len(raw) - len(present),
        "duplicate_records": len(present) - len(set(present)),
        "first_gap": first_gap,
        "redis": None,
        "sqlite": None,
    }
    prefix = a.prefix
    if first_gap is not None:
        # Plain Optuna waits forever at a gap: read the journal up to it, under a scratch prefix.
        prefix = "%s:__check_before_gap" % a.prefix
        pipe = r.pipeline()
        for i in range(first_gap):
            pipe.set("%s:log:%d" % (prefix, i), raw[i])
        pipe.set("%s:log_number" % prefix, first_gap - 1)
        pipe.execute()
    try:
        result["redis"] = dump(optuna.load_study(study_name=a.study, storage=journal_storage(a.url, prefix)))
    except KeyError:
        pass
    finally:
        if first_gap is not None:
            r.delete(*(["%s:log:%d" % (prefix, i) for i in range(first_gap)] + ["%s:log_number" % prefix]))
    if a.sqlite:
        try:
            result["sqlite"] = dump(optuna.load_study(study_name=a.study, storage="sqlite:///" + a.sqlite))
        except KeyError:
            pass
    print(json.dumps(result))


if __name__ == "__main__":
    main()
