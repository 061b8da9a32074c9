"""Reconcile as a command (python3 -m enhanced_redis_storage reconcile, what the optuna-storage
CLI and the Heal command run) on studies a real outage split: real redis-server, the SQLite
file the storage wrote, plain Optuna reading Redis afterwards."""

import json
import os
import subprocess
import sys
import threading

import optuna
import pytest

import helpers
from conftest import requires_redis
from enhanced_redis_storage import EnhancedRedisStorage
from enhanced_redis_storage._client import Clients
from enhanced_redis_storage._compat import JournalStorage
from enhanced_redis_storage._compat import quietly
from enhanced_redis_storage.config import resolve
from enhanced_redis_storage.journal_backend import GuardedRedisJournal
from enhanced_redis_storage.reconcile import Reconciler
from enhanced_redis_storage.reconcile import _open_sqlite_read_only

optuna.logging.set_verbosity(optuna.logging.WARNING)


def objective(trial):
    x = trial.suggest_float("x", -1, 1)
    trial.suggest_int("k", 0, 10)
    trial.report(x, 0)
    trial.set_user_attr("tag", "t%d" % trial.number)
    return x * x


def reconcile(server_url, fallback, prefix="p", *extra, env=None):
    """Runs the command as the CLI does; returns (exit status, report or text, stderr)."""
    e = dict(os.environ, PYTHONPATH=helpers.PACKAGE_DIR, PYTHONWARNINGS="ignore")
    e.update(env or {})
    p = subprocess.run(
        [sys.executable, "-m", "enhanced_redis_storage", "reconcile", "--redis", server_url, "--prefix", prefix,
         "--sqlite", fallback] + list(extra),
        capture_output=True, text=True, env=e, timeout=300,
    )
    out = json.loads(p.stdout) if "--json" in extra and p.stdout.strip() else p.stdout
    return p.returncode, out, p.stderr


def plain(server, prefix, name):
    return optuna.load_study(
        study_name=name,
        storage=quietly(lambda: optuna.storages.JournalStorage(optuna.storages.JournalRedisStorage(server.url, prefix=prefix))),
    )


def journal_length(server, prefix="p"):
    n = server.client().get("%s:log_number" % prefix)
    return None if n is None else int(n) + 1


def split_study(server, fallback, name="split", on_redis=3, on_sqlite=5, running_twin=False):
    """A study an outage split: ``on_redis`` trials in Redis, then Redis killed and
    ``on_sqlite`` trials finished in SQLite; the writer then ends without recovering (as a
    process killed during the outage would). ``running_twin``: one more trial started on
    Redis and finished during the outage (Redis keeps it RUNNING)."""
    s = EnhancedRedisStorage(server.url, fallback, prefix="p", probe_interval=3600)
    try:
        study = optuna.create_study(storage=s, study_name=name, directions=["minimize"])
        study.set_user_attr("owner", "me")
        study.optimize(objective, n_trials=on_redis)
        pending = study.ask() if running_twin else None
        server.kill()
        if pending is not None:
            study.tell(pending, 0.25)
        study.optimize(objective, n_trials=on_sqlite)
        assert s.current_storage == "sqlite"
        finished = [(t.params, t.values, t.datetime_start, t.datetime_complete) for t in study.trials]
    finally:
        s.close()
    server.start()
    return finished


def assert_once(server, name, expected):
    got = plain(server, "p", name).trials
    assert [t.state.name for t in got].count("COMPLETE") == len(got), [t.state.name for t in got]
    key = lambda x: (sorted(x[0].items()), x[1], x[2], x[3])  # noqa: E731
    assert sorted(map(key, [(t.params, t.values, t.datetime_start, t.datetime_complete) for t in got])) == sorted(
        map(key, expected)
    )


@requires_redis
def test_dry_run_lists_then_reconcile_copies_each_trial_once_and_verifies(redis_server, workdir):
    server = redis_server()
    fb = os.path.join(workdir, "optuna_fallback.db")
    expected = split_study(server, fb)
    before = journal_length(server)

    code, report, _ = reconcile(server.url, fb, "p", "--dry-run", "--json")
    assert code == 0, report
    assert report["dry_run"] and report["totals"]["copied"] == 5 and len(report["studies"][0]["to_copy"]) == 5
    assert journal_length(server) == before, "a dry run wrote"
    code, text, _ = reconcile(server.url, fb, "p", "--dry-run")
    assert 'study "split": would copy 5' in text and "SQLite trials to copy: #0" in text, text

    code, report, err = reconcile(server.url, fb, "p", "--json")
    assert code == 0, (report, err)
    st = report["studies"][0]
    assert (st["copied"], st["already"], st["skipped_running"], st["refused"], st["verified"]) == (5, 0, 0, None, True)
    assert report["totals"]["copied"] == 5
    assert_once(server, "split", expected)
    assert plain(server, "p", "split").user_attrs == {"owner": "me"}

    # Again: nothing to copy; the text report says so.
    code, text, _ = reconcile(server.url, fb, "p")
    assert code == 0
    assert 'study "split": copied 0' in text and "already there 5" in text and "verified" in text, text
    assert_once(server, "split", expected)


@requires_redis
def test_a_redis_trial_left_running_is_completed_not_duplicated(redis_server, workdir):
    server = redis_server()
    fb = os.path.join(workdir, "optuna_fallback.db")
    expected = split_study(server, fb, on_redis=2, on_sqlite=2, running_twin=True)
    assert [t.state.name for t in plain(server, "p", "split").trials].count("RUNNING") == 1
    code, report, err = reconcile(server.url, fb, "p", "--json")
    assert code == 0, (report, err)
    st = report["studies"][0]
    assert (st["copied"], st["completed"], st["verified"]) == (2, 1, True), st
    assert_once(server, "split", expected)


@requires_redis
def test_a_study_born_during_the_outage_is_created_in_redis(redis_server, workdir):
    server = redis_server()
    fb = os.path.join(workdir, "optuna_fallback.db")
    s = EnhancedRedisStorage("redis://127.0.0.1:%d" % helpers.free_port(), fb, prefix="p", probe_interval=3600)
    try:
        study = optuna.create_study(storage=s, study_name="born", directions=["maximize", "minimize"])
        study.set_user_attr("note", "outage")
        study.optimize(lambda t: (t.suggest_float("a", 0, 1), 1.0), n_trials=4)
        expected = [(t.params, t.values, t.datetime_start, t.datetime_complete) for t in study.trials]
    finally:
        s.close()
    code, report, err = reconcile(server.url, fb, "p", "--json", "--study", "born")
    assert code == 0, (report, err)
    assert report["studies"][0]["study_created"] and report["totals"]["copied"] == 4
    got = plain(server, "p", "born")
    assert [d.name for d in got.directions] == ["MAXIMIZE", "MINIMIZE"] and got.user_attrs == {"note": "outage"}
    assert_once(server, "born", expected)


@requires_redis
def test_a_redis_restarted_empty_is_refused_and_nothing_is_written(redis_server, workdir):
    server = redis_server()
    fb = os.path.join(workdir, "optuna_fallback.db")
    split_study(server, fb)
    server.restart(empty=True)
    code, report, err = reconcile(server.url, fb, "p", "--json")
    assert code == 1, (report, err)
    st = report["studies"][0]
    assert "restarted empty" in st["refused"] and st["refused_trials"] == 5 and st["copied"] == 0, st
    assert report["totals"]["refused"] == 1
    assert server.client().keys("*") == [], "wrote into an emptied Redis"
    code, text, _ = reconcile(server.url, fb, "p")
    assert code == 1 and "REFUSED, nothing written" in text, text


@requires_redis
def test_a_journal_with_a_gap_is_refused(redis_server, workdir):
    server = redis_server()
    fb = os.path.join(workdir, "optuna_fallback.db")
    split_study(server, fb)
    c = server.client()
    c.delete("p:log:1")
    n = journal_length(server)
    code, _, err = reconcile(server.url, fb, "p")
    assert code == 1 and "refused, nothing written" in err and "p:log:1" in err, err
    assert journal_length(server) == n


def test_bad_input_and_unreachable_redis_have_their_own_exit_status(workdir):
    junk = os.path.join(workdir, "junk.db")
    with open(junk, "w") as f:
        f.write("not a database")
    code, _, err = reconcile("redis://127.0.0.1:1", junk, "p")
    assert code == 2 and "junk.db" in err, err
    code, _, err = reconcile("redis://127.0.0.1:1", os.path.join(workdir, "none.db"), "p")
    assert code == 2 and "no such file" in err, err
    fb = os.path.join(workdir, "optuna_fallback.db")
    s = EnhancedRedisStorage("redis://127.0.0.1:%d" % helpers.free_port(), fb, prefix="p", probe_interval=3600)
    optuna.create_study(storage=s, study_name="x").optimize(lambda t: 1.0, n_trials=1)
    s.close()
    code, _, err = reconcile("redis://127.0.0.1:%d" % helpers.free_port(), fb, "p", "--study", "nope")
    assert code == 2 and '"nope"' in err, err
    code, _, err = reconcile("redis://127.0.0.1:%d" % helpers.free_port(), fb, "p")
    assert code == 3 and "unavailable" in err, err


@requires_redis
def test_concurrent_reconcilers_on_two_hosts_copy_each_trial_once(redis_server, workdir):
    """Two SQLite files (two hosts) beside one Redis, each reconciled by two processes at
    once, several rounds: each trial lands once."""
    for round_ in range(3):
        server = redis_server()
        fbs = [os.path.join(workdir, "r%d-host%d.db" % (round_, h)) for h in range(2)]
        expected = split_study(server, fbs[0], name="shared", on_redis=2, on_sqlite=6)
        # The second host: a process that failed over at the same moment, into its own file.
        s = EnhancedRedisStorage(server.url, fbs[1], prefix="p", probe_interval=3600)
        study = optuna.load_study(study_name="shared", storage=s)
        server.kill()
        study.optimize(objective, n_trials=6)
        expected += [(t.params, t.values, t.datetime_start, t.datetime_complete) for t in study.trials[-6:]]
        s.close()
        server.start()
        results = [None] * 4

        def run(i):
            results[i] = reconcile(server.url, fbs[i % 2], "p", "--json")

        threads = [threading.Thread(target=run, args=(i,)) for i in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert all(r[0] == 0 for r in results), results
        assert sum(r[1]["totals"]["copied"] for r in results) == 12, [r[1]["totals"] for r in results]
        assert all(r[1]["studies"][0]["verified"] for r in results)
        assert_once(server, "shared", expected)


@requires_redis
def test_a_reconcile_killed_halfway_finishes_when_run_again(redis_server, workdir):
    server = redis_server()
    fb = os.path.join(workdir, "optuna_fallback.db")
    expected = split_study(server, fb, on_redis=1, on_sqlite=7)

    class Killed(BaseException):
        pass

    def die(study, done, total):
        raise Killed()  # the process dies after its first batch reached Redis

    clients = Clients(resolve(server.url, fb, "p", {"status_file": ""}, config_file=False))
    backend = GuardedRedisJournal(clients, "p", "killed")
    journal = quietly(lambda: JournalStorage(backend))
    rdb = _open_sqlite_read_only(fb)
    with pytest.raises(Killed):
        Reconciler(journal, backend, rdb, batch=3, on_progress=die).reconcile(["split"])
    clients.close()
    assert len(plain(server, "p", "split").trials) == 1 + 3
    code, report, err = reconcile(server.url, fb, "p", "--json")
    assert code == 0, (report, err)
    st = report["studies"][0]
    assert (st["copied"], st["already"], st["verified"]) == (4, 3, True), st
    assert_once(server, "split", expected)


@requires_redis
def test_the_storage_records_where_the_journal_stood_and_hides_it(redis_server, workdir):
    server = redis_server()
    fb = os.path.join(workdir, "optuna_fallback.db")
    s = EnhancedRedisStorage(server.url, fb, prefix="p", probe_interval=3600)
    try:
        study = optuna.create_study(storage=s, study_name="o")
        study.optimize(objective, n_trials=2)
        server.kill()
        study.optimize(objective, n_trials=1)
        assert study.system_attrs == {}
        assert all(not k.startswith("enhanced_redis_storage:") for st in s.get_all_studies() for k in st.system_attrs)
    finally:
        s.close()
    rdb = _open_sqlite_read_only(fb)
    pos = rdb.get_study_system_attrs(rdb.get_study_id_from_name("o"))["enhanced_redis_storage:redis_journal"]
    assert pos["prefix"] == "p" and pos["entries"] > 0 and len(pos["last_sha1"]) == 40
