"""A fleet of real worker processes through faults, and the checks every run must pass:
nothing escaped, calls bounded, every completed trial found exactly once by plain Optuna,
nothing RUNNING, no record written twice."""

import json
import os
import signal
import subprocess
import time
from typing import Any
from typing import Callable
from typing import Dict
from typing import List
from typing import Optional

import helpers

MAX_CALL_MS = 5000  # the bound for any storage call during an outage
# A worker's own deadline, only a net for a harness that died without stopping it: the stop file
# ends a run. 240 s was once shorter than a 50-process fleet's three outages on a loaded machine
# (load average 30-44), whose workers then ended on time and looked like an early exit.
WORKER_SECONDS = 1200
RECOVERY_WINDOW_S = 10.0  # after a heal, calls still count as "during the outage" this long


class Fault:
    """What a test does to Redis: ``inject`` starts the outage, ``heal`` ends it (None: never)."""

    def __init__(
        self,
        name: str,
        inject: Callable[[], None],
        heal: Optional[Callable[[], None]],
        during: str = "sqlite",
        after: str = "redis",
        stops_workers: bool = False,
    ):
        self.name = name
        self.inject = inject
        self.heal = heal
        self.during = during  # the storage the workers use during the outage
        self.after = after  # ... and once it is healed ("held": Redis came back without its data)
        # The fault SIGSTOPs the workers themselves (their calls' wall time then includes the
        # pause): the call bound applies from the moment they continue.
        self.stops_workers = stops_workers

    @property
    def held(self) -> bool:
        return self.after == "held"


class FleetRun:
    def __init__(
        self,
        version: str,
        url: str,
        workdir: str,
        n_workers: int = 3,
        prefix: str = "fleet",
        study: str = "s",
        n_jobs: Any = 1,
        sleep: float = 0.03,
        extra_args: Optional[List[str]] = None,
        check_url: Optional[str] = None,
    ) -> None:
        self.version = version
        self.url = url
        self.check_url = check_url or url
        self.dir = workdir
        self.n_workers = n_workers
        self.prefix = prefix
        self.study = study
        self.sqlite = os.path.join(workdir, "optuna_fallback.db")
        self.stop_file = os.path.join(workdir, "stop")
        self.n_jobs = n_jobs
        self.sleep = sleep
        self.extra_args = extra_args or []
        self.procs: List[subprocess.Popen] = []
        self.logs: List[str] = []
        self.events: Dict[str, float] = {}

    def start(self) -> None:
        for i in range(self.n_workers):
            log = os.path.join(self.dir, "worker-%d.jsonl" % i)
            self.logs.append(log)
            args = [
                "--url", self.url, "--prefix", self.prefix, "--sqlite", self.sqlite, "--study", self.study,
                "--stop-file", self.stop_file, "--seconds", str(WORKER_SECONDS), "--sleep", str(self.sleep),
                "--n-jobs", str(self.n_jobs[i] if isinstance(self.n_jobs, list) else self.n_jobs),
            ] + self.extra_args
            self.procs.append(helpers.spawn_worker(self.version, args, log))

    def trials(self) -> List[List[Dict[str, Any]]]:
        return [[e for e in helpers.read_jsonl(log) if e.get("event") == "trial"] for log in self.logs]

    def begins(self) -> List[List[Dict[str, Any]]]:
        return [[e for e in helpers.read_jsonl(log) if e.get("event") == "begin"] for log in self.logs]

    def wait_trials(self, n: int, after: float = 0.0, storage: Optional[str] = None, timeout: float = 90) -> None:
        """Until every worker logged ``n`` trials finished after ``after`` (on ``storage``)."""

        def ok() -> bool:
            for proc, ts in zip(self.procs, self.trials()):
                if proc.poll() is not None:
                    raise AssertionError(self.early_exit(proc))
                k = [t for t in ts if t["t"] >= after and (storage is None or t["storage"] == storage)]
                if len(k) < n:
                    return False
            return True

        helpers.wait_for(ok, timeout, "%d trials per worker%s" % (n, " on " + storage if storage else ""), 0.1)

    def statuses(self) -> List[Dict[str, Any]]:
        """The state each worker publishes in <fallback file>.writers/."""
        d = self.sqlite + ".writers"
        out = []
        for name in os.listdir(d) if os.path.isdir(d) else []:
            if name.endswith(".json"):
                try:
                    with open(os.path.join(d, name)) as f:
                        out.append(json.load(f))
                except (OSError, ValueError):
                    pass
        return out

    def wait_status(self, ok: Callable[[Dict[str, Any]], bool], what: str, timeout: float = 90) -> None:
        def all_ok() -> bool:
            for p in self.procs:
                if p.poll() is not None:
                    raise AssertionError(self.early_exit(p))
            sts = self.statuses()
            return len(sts) >= self.n_workers and all(ok(st) for st in sts)

        try:
            helpers.wait_for(all_ok, timeout, "every worker's status: " + what, 0.1)
        except AssertionError as e:
            raise AssertionError("%s; statuses: %s" % (e, json.dumps(self.statuses())[:3000])) from None

    def wait_fallback_ready(self, timeout: float = 90) -> None:
        """Until every worker has its SQLite fallback open (it opens in the background at
        start; an outage in the first seconds of a process waits for it)."""
        self.wait_status(lambda st: st.get("fallback_ready"), "SQLite fallback open", timeout)

    def wait_failed_over(self, since: float, timeout: float = 60) -> None:
        """Until every worker has noticed the outage (its last failover is after ``since``)."""

        def noticed(st: Dict[str, Any]) -> bool:
            lf = st.get("last_failover")
            return bool(lf) and _epoch(lf["at"]) >= since - 0.05

        self.wait_status(noticed, "failed over since %.3f" % since, timeout)

    def wait_begun(self, where: str, after: float, timeout: float = 60) -> None:
        """Until every worker has created a trial in ``where`` after ``after``."""

        def ok() -> bool:
            for p in self.procs:
                if p.poll() is not None:
                    raise AssertionError(self.early_exit(p))
            return all(any(b["t"] >= after and b["where"] == where for b in bs) for bs in self.begins())

        helpers.wait_for(ok, timeout, "a trial created in %s by every worker" % where, 0.1)

    def early_exit(self, proc: subprocess.Popen) -> str:
        """What a worker that ended before the stop file said: its exit code, its summary, stderr."""
        i = self.procs.index(proc)
        summary = [e for e in helpers.read_jsonl(self.logs[i]) if e.get("event") == "summary"]
        return "worker %d (pid %d) exited early with code %s; its summary: %s\nstderr:\n%s" % (
            i,
            proc.pid,
            proc.returncode,
            json.dumps(summary[-1]) if summary else "none (it did not get to write one)",
            self.stderr(),
        )

    def stderr(self) -> str:
        out = []
        for log in self.logs:
            try:
                with open(log + ".stderr") as f:
                    out.append(f.read()[-3000:])
            except OSError:
                pass
        return "\n---\n".join(out)

    def stop(self, timeout: float = 120) -> List[Dict[str, Any]]:
        open(self.stop_file, "w").close()
        deadline = time.monotonic() + timeout
        for p in self.procs:
            try:
                p.wait(max(1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.kill(p.pid, signal.SIGKILL)
                p.wait()
                raise AssertionError("a worker did not stop:\n%s" % self.stderr())
        return self.summaries()

    def summaries(self) -> List[Dict[str, Any]]:
        out = []
        for log in self.logs:
            s = [e for e in helpers.read_jsonl(log) if e.get("event") == "summary"]
            if not s:
                raise AssertionError("a worker wrote no summary:\n%s" % self.stderr())
            out.append(s[-1])
        return out

    def kill_all(self) -> None:
        for p in self.procs:
            if p.poll() is None:
                os.kill(p.pid, signal.SIGKILL)
                p.wait()

    def check(self) -> Dict[str, Any]:
        return helpers.run_check(
            self.version, ["--url", self.check_url, "--prefix", self.prefix, "--study", self.study, "--sqlite", self.sqlite]
        )


def _epoch(iso: str) -> float:
    import datetime

    return datetime.datetime.fromisoformat(iso).timestamp()


def run_through(run: FleetRun, faults: List[Fault], outage_seconds: float = 2.5, before: int = 2) -> Dict[str, Any]:
    """Starts the fleet, and for each fault in turn: injects it once every worker finished
    ``before`` trials, heals it after ``outage_seconds`` and waits for trials on the storage
    the fault leaves (Redis again, or SQLite when Redis came back without its data). Then stops
    the fleet and returns everything measured."""
    run.start()
    phases = []
    try:
        run.wait_trials(before)
        run.wait_fallback_ready()
        for fault in faults:
            t_fault = time.time()
            fault.inject()
            if fault.stops_workers:
                t_fault = time.time()
            if fault.during != "redis":
                run.wait_failed_over(t_fault, timeout=60)
            time.sleep(max(0.0, outage_seconds - (time.time() - t_fault)))
            t_heal = None
            if fault.heal is not None:
                fault.heal()
                t_heal = time.time()
                if fault.after == "redis":
                    run.wait_begun("redis", t_heal, timeout=60)
                run.wait_trials(before, after=t_heal, timeout=60)
                if fault.after == "held":
                    run.wait_status(lambda st: st["current_storage"] == "held", "held", timeout=60)
            phases.append({"fault": fault, "t_fault": t_fault, "t_heal": t_heal})
        summaries = run.stop()
    finally:
        run.kill_all()
    return {"phases": phases, "summaries": summaries, "trials": run.trials(), "begins": run.begins(), "check": run.check()}


def assert_sound(
    result: Dict[str, Any], held: bool = False, redis_lost: bool = False, call_bound_ms: Optional[float] = MAX_CALL_MS
) -> Dict[str, Any]:
    """The invariants of every run; returns measured figures. ``redis_lost``: Redis itself
    lost its data (restarted empty), so trials completed on Redis may be gone from
    everywhere; those completed on SQLite must all be there. ``call_bound_ms=None``: the
    slowest call during an outage is measured, not asserted (the benchmark reports it against
    the bound; the tests assert it)."""
    summaries, trials, check = result["summaries"], result["trials"], result["check"]
    errors = [e for s in summaries for e in s["errors"]]
    assert not errors, "exceptions escaped to Optuna:\n" + "\n".join(errors)
    problems = [p for s in summaries for p in s["status"]["reconcile_problems"]]
    assert not problems, "reconcile found differences: %s" % problems
    # "Every storage call during an outage returns within 5 s": calls that overlap an outage,
    # from the fault until its workers are back (what other calls take is the machine's load).
    windows = []
    for ph in result["phases"]:
        end = (ph["t_heal"] if ph["t_heal"] is not None else time.time()) + RECOVERY_WINDOW_S
        windows.append((ph["t_fault"], end))
    during = [
        c for s in summaries for c in s["slow_calls"]
        if any(c[0] - c[1] / 1000.0 <= hi and c[0] >= lo for lo, hi in windows)
        and not any(ph["fault"].stops_workers and c[0] - c[1] / 1000.0 < ph["t_fault"] for ph in result["phases"])
    ]
    max_call = max([c[1] for c in during] + [0.0])
    if call_bound_ms is not None:
        assert max_call <= call_bound_ms, "a storage call during an outage took %.0f ms: %s" % (max_call, during)
    assert check["duplicate_records"] == 0, "records appended twice: %d" % check["duplicate_records"]
    completed = [t for ts in trials for t in ts if t["state"] == "COMPLETE"]
    tokens = [t["token"] for t in completed]
    assert len(tokens) == len(set(tokens)), "a worker logged a trial twice"
    redis_trials = check["redis"] or []
    sqlite_trials = check["sqlite"] or []
    running = [t for t in redis_trials if t["state"] == "RUNNING"]
    if held:
        # Redis is never written again: a trial in flight at the fault stays RUNNING there, and
        # its shadow in SQLite holds how it ended (reconcile completes it once Redis is fixed).
        finished_in_sqlite = {t["uid"] for t in sqlite_trials if t["state"] != "RUNNING"}
        running = [t for t in running if t["uid"] not in finished_in_sqlite]
    assert not running, "trials left RUNNING in Redis: %s" % running[:3]
    by_token_redis: Dict[str, List[Dict[str, Any]]] = {}
    for t in redis_trials:
        if t["token"]:
            by_token_redis.setdefault(t["token"], []).append(t)
    doubled = {k: v for k, v in by_token_redis.items() if len(v) > 1}
    assert not doubled, "trials doubled in Redis: %s" % list(doubled)[:5]
    if not held:
        missing = [t for t in completed if t["token"] not in by_token_redis]
        assert not missing, "%d completed trials missing from Redis, e.g. %s" % (len(missing), missing[:3])
        for t in completed:
            r = by_token_redis[t["token"]][0]
            assert r["state"] == "COMPLETE" and r["values"] == [t["value"]], (t, r)
            assert r["params"] == t["params"], (t, r)
        statuses = [s["status"]["current_storage"] for s in summaries]
        assert statuses == ["redis"] * len(summaries), statuses
        pending = [s["status"]["sqlite_pending_studies"] for s in summaries]
        # Every SQLite trial is in Redis too (reconciled), so nothing is shown twice or lost.
        redis_uids = {t["uid"] for t in redis_trials}
        not_reconciled = [t for t in sqlite_trials if t["state"] != "RUNNING" and t["uid"] not in redis_uids]
        assert not not_reconciled, "SQLite trials never reconciled: %d (pending %s)" % (len(not_reconciled), pending)
    else:
        by_token_sqlite = {t["token"]: t for t in sqlite_trials if t["token"]}
        for t in completed:
            if redis_lost and t["storage"] == "redis":
                continue
            found = by_token_redis.get(t["token"], []) + ([by_token_sqlite[t["token"]]] if t["token"] in by_token_sqlite else [])
            assert found, "completed trial %s neither in Redis nor in SQLite" % t["token"]
        statuses = [s["status"]["current_storage"] for s in summaries]
        assert statuses == ["held"] * len(summaries), statuses
    per_fault = {}
    begins = result.get("begins") or [[] for _ in trials]
    for ph in result["phases"]:
        t_fault, t_heal, fault = ph["t_fault"], ph["t_heal"], ph["fault"]
        failovers, recoveries, done = [], [], []
        for ts, bs in zip(trials, begins):
            # A trial finished on the storage the fault leaves (the workers went on) ...
            after = [t for t in ts if t["t"] >= t_fault and t["storage"] == fault.during]
            if after:
                done.append(round(after[0]["t"] - t_fault, 3))
            # ... and the first trial created in SQLite after the fault, in Redis after the heal.
            if fault.during != "redis":
                first = [b for b in bs if b["t"] >= t_fault and b["where"] == "sqlite"]
                if first:
                    failovers.append(round(first[0]["t"] - t_fault, 3))
            if t_heal is not None and fault.after == "redis":
                back = [b for b in bs if b["t"] >= t_heal and b["where"] == "redis"]
                if back:
                    recoveries.append(round(back[0]["t"] - t_heal, 3))
        assert len(done) + len(failovers) > 0, "%s: the workers did not go on after the fault" % fault.name
        if fault.after == "redis":
            assert len(recoveries) == len(trials), "%s: not every worker came back to Redis" % fault.name
        name = fault.name
        while name in per_fault:
            name += "'"
        per_fault[name] = {"failover_s": failovers, "first_done_s": done, "recovery_s": recoveries}
    return {
        "max_call_ms": max_call,
        "faults": per_fault,
        "completed": len(completed),
        "calls": sum(s["calls"] for s in summaries),
        "failed_calls": sum(s["failed_calls"] for s in summaries),
    }


def dump_json(path: str, obj: Any) -> None:
    with open(path, "w") as f:
        json.dump(obj, f, indent=1)
