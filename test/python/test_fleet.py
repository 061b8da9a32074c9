"""Fleets of worker processes (some optimizing with n_jobs=4) through several outages, a
storage pickled into a child process, and a Sentinel failover, on every Optuna release.
The full-size fleets (30 and 50 processes) run in `npm run bench:writers`."""

import os
import shutil
import signal
import subprocess
import tempfile

import pytest

import helpers
from conftest import release_params
from conftest import requires_redis
from fleet import Fault
from fleet import FleetRun
from fleet import assert_sound
from fleet import run_through

pytestmark = requires_redis


@pytest.mark.parametrize("version", release_params())
def test_fleet_with_threads_through_several_outages(version, redis_server, workdir):
    server = redis_server()
    run = FleetRun(version, server.url, workdir, n_workers=4, prefix="fleet", n_jobs=[4, 2, 1, 1])
    faults = [
        Fault("sigkill", server.kill, server.start),
        Fault("sigstop", server.stop, server.cont),
        Fault("sigkill-again", server.kill, server.start),
    ]
    figures = assert_sound(run_through(run, faults, outage_seconds=2.0))
    assert len(figures["faults"]) == 3


@pytest.mark.parametrize("version", release_params())
def test_storage_pickled_into_a_child_process(version, redis_server, workdir):
    """A storage pickled by a parent process (only its settings travel) works in the child,
    through an outage."""
    server = redis_server()
    run = FleetRun(version, server.url, workdir, n_workers=1, prefix="pk")
    blob = os.path.join(workdir, "storage.pickle")
    parent = (
        "import pickle, sys\n"
        "from enhanced_redis_storage import EnhancedRedisStorage\n"
        "s = EnhancedRedisStorage(sys.argv[1], sys.argv[2], prefix='pk')\n"
        "pickle.dump(s, open(sys.argv[3], 'wb'))\n"
        "s.close()\n"
    )
    subprocess.run(
        [helpers.PYTHON, "-c", parent, server.url, run.sqlite, blob], env=helpers.worker_env(version), check=True, timeout=120
    )
    run.extra_args = ["--pickled", blob]
    assert_sound(run_through(run, [Fault("sigkill", server.kill, server.start)]))


def _sentinel(master_port: int, workdir: str) -> "subprocess.Popen":
    port = helpers.free_port()
    conf = os.path.join(workdir, "sentinel.conf")
    with open(conf, "w") as f:
        f.write(
            "port %d\nbind 127.0.0.1\ndir %s\nsentinel monitor mymaster 127.0.0.1 %d 1\n"
            "sentinel down-after-milliseconds mymaster 1000\nsentinel failover-timeout mymaster 5000\n"
            % (port, workdir, master_port)
        )
    proc = subprocess.Popen(["redis-sentinel", conf], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    proc.port = port  # type: ignore[attr-defined]
    return proc


@pytest.mark.skipif(shutil.which("redis-sentinel") is None, reason="redis-sentinel is not installed")
@pytest.mark.parametrize("version", release_params(["3.1.0", "4.9.0"]))
def test_sentinel_failover_leaves_the_old_master_read_only(version, redis_server, workdir):
    """Workers reach Redis through Sentinel. The master is demoted to a read-only replica and
    its replica promoted (SENTINEL FAILOVER): writers meet READONLY on the old master, and
    go on against the new master found through Sentinel, with nothing lost or doubled."""
    master = redis_server()
    replica = redis_server(extra=["--replicaof", "127.0.0.1", str(master.port)])
    sdir = tempfile.mkdtemp(prefix="osm-py-sentinel-")
    sentinel = _sentinel(master.port, sdir)
    try:
        import redis

        sc = redis.Redis(host="127.0.0.1", port=sentinel.port, socket_timeout=2)
        helpers.wait_for(lambda: _quiet(lambda: sc.sentinel_master("mymaster")), 20, "sentinel up")
        helpers.wait_for(lambda: _quiet(lambda: len(sc.sentinel_slaves("mymaster")) == 1), 30, "sentinel to see the replica")
        run = FleetRun(
            version, master.url, workdir, n_workers=3, prefix="sen",
            extra_args=["--sentinels", "127.0.0.1:%d" % sentinel.port, "--sentinel-master", "mymaster"],
        )

        def failover() -> None:
            # Freeze the workers so the replica holds every acknowledged write, then fail over.
            for p in run.procs:
                os.kill(p.pid, signal.SIGSTOP)
            mc = master.client()
            helpers.wait_for(
                lambda: replica.client().info("replication").get("slave_repl_offset") == mc.info("replication").get("master_repl_offset"),
                20, "the replica to catch up",
            )
            sc.execute_command("SENTINEL", "FAILOVER", "mymaster")
            helpers.wait_for(lambda: replica.client().info("replication")["role"] == "master", 30, "promotion")
            helpers.wait_for(lambda: master.client().info("replication")["role"] == "slave", 30, "demotion")
            for p in run.procs:
                os.kill(p.pid, signal.SIGCONT)

        result = run_through(run, [Fault("sentinel-failover", failover, lambda: None, during="redis", stops_workers=True)])
        result["check"] = helpers.run_check(version, ["--url", replica.url, "--prefix", "sen", "--study", run.study, "--sqlite", run.sqlite])
        figures = assert_sound(result)
        assert figures["completed"] > 0
        assert replica.client().info("replication")["role"] == "master"
    finally:
        os.kill(sentinel.pid, signal.SIGKILL)
        sentinel.wait()
        shutil.rmtree(sdir, ignore_errors=True)


def _quiet(fn):
    try:
        return fn()
    except Exception:
        return None
