"""The stability suite's writer (python3 -m enhanced_redis_storage suite-worker), on every
Optuna release, through a real Redis crash and return: its JSON lines say where each trial
was written, and after "settle" plain Optuna sees every trial it told in Redis exactly once."""

import json
import os
import subprocess
import threading
import time

import pytest

import helpers
from conftest import release_params
from conftest import requires_redis

pytestmark = requires_redis


class Worker:
    def __init__(self, version, url, workdir):
        self.lines = []
        self.p = subprocess.Popen(
            [helpers.PYTHON, "-m", "enhanced_redis_storage", "suite-worker", "--redis", url, "--prefix", "sw",
             "--sqlite", os.path.join(workdir, "writers.db"), "--study", "sw", "--worker", "0"],
            env=helpers.worker_env(version), cwd=workdir, text=True,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=open(os.path.join(workdir, "stderr"), "w"),
        )
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.p.stdout:
            self.lines.append(json.loads(line))

    def trials(self, **match):
        return [e for e in self.lines if e["event"] == "trial" and all(e[k] == v for k, v in match.items())]

    def wait_trial(self, what, after=0.0, **match):
        return helpers.wait_for(
            lambda: [t for t in self.trials(**match) if t["t"] >= after] or self.p.poll() is not None, 120, what
        )


@pytest.mark.parametrize("version", release_params())
def test_the_suite_worker_reports_where_it_writes_and_loses_nothing(version, redis_server, workdir):
    server = redis_server()
    w = Worker(version, server.url, workdir)
    try:
        w.wait_trial("trials on Redis", storage="redis")
        killed = time.time()
        server.kill()
        w.wait_trial("a trial on SQLite", killed, storage="sqlite")
        back = time.time()
        server.start()
        w.wait_trial("a trial on Redis again", back, storage="redis")
        w.p.stdin.write("settle\n")
        w.p.stdin.flush()
        assert w.p.wait(120) == 0, open(os.path.join(workdir, "stderr")).read()[-3000:]
    finally:
        if w.p.poll() is None:
            w.p.kill()
            w.p.wait()
    helpers.wait_for(lambda: w.lines and w.lines[-1]["event"] == "done", 10, "the summary line")
    done = w.lines[-1]
    assert done["errors"] == [] and done["status"]["current_storage"] == "redis", done
    assert done["status"]["sqlite_pending_studies"] == [], done
    told = w.trials()
    assert {t["storage"] for t in told} >= {"redis", "sqlite"}
    got = helpers.run_check(version, ["--url", server.url, "--prefix", "sw", "--study", "sw"])["redis"]
    assert all(t["state"] == "COMPLETE" for t in got), [t["state"] for t in got]
    tokens = [t["user_attrs"].get("suite_token") for t in got]
    assert sorted(tokens) == sorted(t["token"] for t in told), "each trial told is in Redis once"
    values = {t["user_attrs"]["suite_token"]: t["values"] for t in got}
    assert all(values[t["token"]] == [t["value"]] for t in told)
