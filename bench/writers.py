"""bench:writers -- the optimizer side of an outage, measured end to end with real processes.

  npm run bench:writers -- [--quick] [--fleets 30,50] [--seconds 20] [--repeat 3]

1. Failover and recovery per outage cause: a fleet of worker processes (EnhancedRedisStorage,
   real Optuna, a 20 ms objective) on a disposable redis-server goes through each cause
   ``--repeat`` times. Per worker and outage: failover = fault -> its first trial created on
   SQLite; recovery = Redis answering again -> its first trial created on Redis. Also the
   slowest storage call during the outages, and calls that succeeded / all calls.
2. Happy path, no outage: trials/s of 30 and 50 worker processes on the companion and on plain
   Optuna JournalRedisStorage, measured in the same run, alternating, twice each (RandomSampler
   and an empty objective, so the storage is what is measured).
3. The 30- and 50-process fleets through several outages (SIGKILL, SIGSTOP, SIGKILL), every
   completed trial logged per process and checked against plain Optuna afterwards (found exactly
   once, nothing RUNNING, no record written twice).

Figures on a shared machine are noisy: compare the ratios measured in the same run. Results go
to bench/out/writers.json; a Markdown summary is printed.
"""

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, "test", "python"))
sys.path.insert(0, os.path.join(REPO, "python"))

import helpers  # noqa: E402
from fleet import FleetRun  # noqa: E402
from fleet import MAX_CALL_MS  # noqa: E402
from fleet import assert_sound  # noqa: E402
from fleet import run_through  # noqa: E402
from test_faults import RECOVERABLE  # noqa: E402
from test_faults import fault_for  # noqa: E402

VERSION = "3.1.0"  # Debian's Optuna, what /usr/bin/python3 runs


def pct(xs, q):
    if not xs:
        return None
    s = sorted(xs)
    return s[min(len(s) - 1, int(round(q * (len(s) - 1))))]


def summary(xs):
    return {"n": len(xs), "p50": pct(xs, 0.5), "max": max(xs) if xs else None}


def causes(args, out):
    print("== failover and recovery per cause (%d workers, %d outages each)" % (args.cause_workers, args.repeat), flush=True)
    results = {}
    for cause in args.causes:
        server = helpers.RedisServer()
        work = tempfile.mkdtemp(prefix="osm-bench-writers-")
        try:
            os.environ["OSM_WORKER_SLOW_MS"] = "0"  # every call, for the outage maximum
            run = FleetRun(VERSION, server.url, work, n_workers=args.cause_workers, prefix="b", sleep=0.02)
            faults = [fault_for(cause, server, "b") for _ in range(args.repeat)]
            t0 = time.time()
            result = run_through(run, faults, outage_seconds=2.5)
            figures = assert_sound(result, call_bound_ms=None)
            fo = [x for f in figures["faults"].values() for x in f["failover_s"]]
            rc = [x for f in figures["faults"].values() for x in f["recovery_s"]]
            results[cause] = {
                "failover_s": summary(fo),
                "recovery_s": summary(rc),
                "max_call_during_outage_ms": figures["max_call_ms"],
                "calls": figures["calls"],
                "failed_calls": figures["failed_calls"],
                "completed_trials": figures["completed"],
                "seconds": round(time.time() - t0, 1),
            }
            print("  %-16s %s" % (cause, json.dumps(results[cause])), flush=True)
        finally:
            os.environ.pop("OSM_WORKER_SLOW_MS", None)
            server.dispose()
            shutil.rmtree(work, ignore_errors=True)
    out["causes"] = results


def throughput_once(n, plain, seconds):
    server = helpers.RedisServer(persistent=False)
    work = tempfile.mkdtemp(prefix="osm-bench-writers-")
    try:
        extra = ["--sampler", "random", "--steps", "0"] + (["--plain"] if plain else [])
        run = FleetRun(VERSION, server.url, work, n_workers=n, prefix="tp", sleep=0.0, extra_args=extra)
        run.start()
        run.wait_trials(1, timeout=300)
        if not plain:
            # Steady state: each process opens its SQLite fallback in the background at start.
            run.wait_fallback_ready(timeout=300)
        time.sleep(2.0)
        t0 = time.time()
        time.sleep(seconds)
        t1 = time.time()
        run.stop()
        run.kill_all()
        done = [t for ts in run.trials() for t in ts if t0 <= t["t"] < t1 and t["state"] == "COMPLETE"]
        return len(done) / (t1 - t0)
    finally:
        server.dispose()
        shutil.rmtree(work, ignore_errors=True)


def throughput(args, out):
    print("== happy path: trials/s, no outage", flush=True)
    res = {}
    for n in args.fleets:
        plain, enhanced = [], []
        for _ in range(2):
            plain.append(throughput_once(n, True, args.seconds))
            enhanced.append(throughput_once(n, False, args.seconds))
        p, e = statistics.mean(plain), statistics.mean(enhanced)
        res[str(n)] = {
            "plain_trials_per_s": round(p, 2),
            "enhanced_trials_per_s": round(e, 2),
            "runs_plain": [round(x, 2) for x in plain],
            "runs_enhanced": [round(x, 2) for x in enhanced],
            "overhead_pct": round((p / e - 1) * 100, 1) if e else None,
        }
        print("  %d workers: %s" % (n, json.dumps(res[str(n)])), flush=True)
    out["throughput"] = res


def fleets(args, out):
    res = {}
    for n in args.fleets:
        print("== %d-process fleet through SIGKILL, SIGSTOP, SIGKILL" % n, flush=True)
        server = helpers.RedisServer()
        work = tempfile.mkdtemp(prefix="osm-bench-writers-")
        try:
            run = FleetRun(VERSION, server.url, work, n_workers=n, prefix="fleet", sleep=0.05)
            faults = [fault_for("sigkill", server, "fleet"), fault_for("sigstop", server, "fleet"), fault_for("sigkill", server, "fleet")]
            t0 = time.time()
            result = run_through(run, faults, outage_seconds=3.0, before=2)
            figures = assert_sound(result, call_bound_ms=None)
            fo = [x for f in figures["faults"].values() for x in f["failover_s"]]
            rc = [x for f in figures["faults"].values() for x in f["recovery_s"]]
            check = result["check"]
            res[str(n)] = {
                "completed_trials": figures["completed"],
                "in_redis": len(check["redis"] or []),
                "duplicate_records": check["duplicate_records"],
                "failover_s": summary(fo),
                "recovery_s": summary(rc),
                "max_call_during_outage_ms": figures["max_call_ms"],
                "calls": figures["calls"],
                "failed_calls": figures["failed_calls"],
                "seconds": round(time.time() - t0, 1),
            }
            print("  %s" % json.dumps(res[str(n)]), flush=True)
        finally:
            server.dispose()
            shutil.rmtree(work, ignore_errors=True)
    out["fleets"] = res


def markdown(out):
    lines = ["| cause | failover p50 / max (s) | recovery p50 / max (s) | slowest call in outage (bound 5 s) | calls ok |", "|---|---|---|---|---|"]
    for cause, r in out.get("causes", {}).items():
        ok = 1 - r["failed_calls"] / r["calls"] if r["calls"] else 0
        lines.append(
            "| %s | %.2f / %.2f | %.2f / %.2f | %.0f ms %s | %.2f %% |"
            % (cause, r["failover_s"]["p50"], r["failover_s"]["max"], r["recovery_s"]["p50"], r["recovery_s"]["max"],
               r["max_call_during_outage_ms"], "✓" if r["max_call_during_outage_ms"] <= MAX_CALL_MS else "✗", ok * 100)
        )
    if out.get("throughput"):
        lines += ["", "| workers | plain JournalRedisStorage | enhanced_redis_storage | overhead |", "|---|---|---|---|"]
        for n, r in out["throughput"].items():
            lines.append("| %s | %.1f trials/s | %.1f trials/s | %+.1f %% |" % (n, r["plain_trials_per_s"], r["enhanced_trials_per_s"], r["overhead_pct"]))
    if out.get("fleets"):
        lines += ["", "| fleet | trials completed | lost / doubled | failover p50 / max | recovery p50 / max | slowest call in outage (bound 5 s) |", "|---|---|---|---|---|---|"]
        for n, r in out["fleets"].items():
            lines.append(
                "| %s processes | %d | 0 / %d | %.2f / %.2f s | %.2f / %.2f s | %.0f ms %s |"
                % (n, r["completed_trials"], r["duplicate_records"], r["failover_s"]["p50"], r["failover_s"]["max"],
                   r["recovery_s"]["p50"], r["recovery_s"]["max"], r["max_call_during_outage_ms"],
                   "✓" if r["max_call_during_outage_ms"] <= MAX_CALL_MS else "✗")
            )
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="small fleets, one outage per cause")
    ap.add_argument("--fleets", default="30,50")
    ap.add_argument("--seconds", type=float, default=20.0, help="throughput window")
    ap.add_argument("--repeat", type=int, default=3, help="outages per cause")
    ap.add_argument("--cause-workers", type=int, default=10)
    ap.add_argument("--causes", default=",".join(RECOVERABLE))
    ap.add_argument("--only", default="causes,throughput,fleets")
    args = ap.parse_args()
    args.fleets = [int(x) for x in args.fleets.split(",")]
    args.causes = args.causes.split(",")
    if args.quick:
        args.fleets, args.seconds, args.repeat, args.cause_workers = [6], 5.0, 1, 3
    out = {"optuna": VERSION, "machine_load_at_start": os.getloadavg(), "started": time.strftime("%Y-%m-%d %H:%M:%S")}
    only = args.only.split(",")
    if "causes" in only:
        causes(args, out)
    if "throughput" in only:
        throughput(args, out)
    if "fleets" in only:
        fleets(args, out)
    out["machine_load_at_end"] = os.getloadavg()
    os.makedirs(os.path.join(REPO, "bench", "out"), exist_ok=True)
    path = os.path.join(REPO, "bench", "out", "writers.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=1)
    print()
    print(markdown(out))
    print("\n(%s; load average %s at start, %s at end)" % (path, out["machine_load_at_start"], out["machine_load_at_end"]))


if __name__ == "__main__":
    main()
