"""The fault matrix: real worker processes on a disposable redis-server through each outage
cause, on every Optuna release users run."""

import pytest

import helpers
from conftest import release_params
from conftest import requires_redis
from fleet import Fault
from fleet import FleetRun
from fleet import assert_sound
from fleet import run_through

pytestmark = requires_redis

OUTAGE_SECONDS = 2.5


def _used_memory(server: helpers.RedisServer) -> int:
    return int(server.client().info("memory")["used_memory"])


def fault_for(cause: str, server: helpers.RedisServer, prefix: str) -> Fault:
    c = server.client
    if cause == "sigkill":
        return Fault(cause, server.kill, server.start)
    if cause == "shutdown-nosave":
        return Fault(cause, server.shutdown_nosave, server.start)
    if cause == "sigstop":
        return Fault(cause, server.stop, server.cont)
    if cause == "client-pause":
        # A pause ends by itself (CLIENT UNPAUSE would be paused too).
        return Fault(
            cause,
            lambda: c().execute_command("CLIENT", "PAUSE", int(OUTAGE_SECONDS * 1000), "ALL"),
            lambda: helpers.wait_for(server._pong, 10, "the pause to end"),
        )
    if cause == "oom":
        return Fault(
            cause,
            lambda: c().config_set("maxmemory", max(1, _used_memory(server) - 4096)),
            lambda: c().config_set("maxmemory", 0),
        )
    if cause == "readonly-replica":
        # A replica of a master that does not answer keeps its data set and refuses writes.
        dead = helpers.free_port()
        return Fault(
            cause,
            lambda: c().execute_command("REPLICAOF", "127.0.0.1", dead),
            lambda: c().execute_command("REPLICAOF", "NO", "ONE"),
        )
    if cause == "missing-entry":
        # The counter moves past an entry that never arrives (an entry lost, the counter kept).
        return Fault(cause, lambda: c().incr("%s:log_number" % prefix), None, during="held", after="held")
    if cause == "restart-empty":
        return Fault(cause, server.kill, lambda: server.restart(empty=True), during="sqlite", after="held")
    raise AssertionError(cause)


# Outages Redis comes back from with its journal: one fleet goes through all of them in turn.
RECOVERABLE = ["sigkill", "shutdown-nosave", "sigstop", "client-pause", "oom", "readonly-replica"]


@pytest.mark.parametrize("version", release_params())
def test_workers_through_each_outage_cause(version, redis_server, workdir):
    server = redis_server()
    prefix = "fm"
    run = FleetRun(version, server.url, workdir, n_workers=3, prefix=prefix)
    result = run_through(run, [fault_for(c, server, prefix) for c in RECOVERABLE])
    figures = assert_sound(result)
    assert set(figures["faults"]) == set(RECOVERABLE)
    assert figures["completed"] > 0


@pytest.mark.parametrize("version", release_params())
def test_journal_with_missing_entry_is_never_written_again(version, redis_server, workdir):
    server = redis_server()
    prefix = "gap"
    run = FleetRun(version, server.url, workdir, n_workers=2, prefix=prefix)
    result = run_through(run, [fault_for("missing-entry", server, prefix)])
    assert_sound(result, held=True)
    n = int(server.client().get("%s:log_number" % prefix))
    assert result["check"]["first_gap"] == n, "a record was appended after the gap (counter %d, first gap %s)" % (
        n,
        result["check"]["first_gap"],
    )
    for s in result["summaries"]:
        assert "missing" in s["status"]["cause"], s["status"]


@pytest.mark.parametrize("version", release_params())
def test_redis_back_empty_is_held(version, redis_server, workdir):
    server = redis_server()
    prefix = "empty"
    run = FleetRun(version, server.url, workdir, n_workers=2, prefix=prefix)
    result = run_through(run, [fault_for("restart-empty", server, prefix)])
    assert_sound(result, held=True, redis_lost=True)
    assert server.client().keys(prefix + "*") == [], "a process wrote into the Redis that came back empty"
    for s in result["summaries"]:
        assert s["status"]["current_storage"] == "held" and "gone" in s["status"]["cause"], s["status"]
