"""Reconcile as a command (python3 -m enhanced_redis_storage reconcile, what the optuna-storage
CLI and the Heal command run) on studies a real outage split: real redis-server, the SQLite
file the storage wrote, plain Optuna reading Redis afterwards."""

import json
import os
import select
import signal
import subprocess
import sys

import optuna

import helpers
from conftest import requires_redis
from enhanced_redis_storage import EnhancedRedisStorage
from enhanced_redis_storage._compat import quietly
from enhanced_redis_storage.identity import UID_KEY
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


ROUNDS = 50


def _rdb(path):
    return optuna.storages.RDBStorage("sqlite:///" + path)


def _copy_study(src, dst, name, numbers=None):
    """Copies study ``name`` (created when missing) and its finished trials (those with the
    given SQLite numbers, default all) from one SQLite file into another, unique ids included:
    the files then share those trials, as two hosts' files do when one was copied from the
    other."""
    a, b = _rdb(src), _rdb(dst)
    try:
        qa = a.get_study_id_from_name(name)
        try:
            qb = b.get_study_id_from_name(name)
        except KeyError:
            qb = b.create_new_study(a.get_study_directions(qa), name)
            for k, v in a.get_study_user_attrs(qa).items():
                b.set_study_user_attr(qb, k, v)
        for t in a.get_all_trials(qa):
            if t.state.is_finished() and (numbers is None or t.number in numbers):
                b.create_new_trial(qb, template_trial=t)
    finally:
        a.engine.dispose()
        b.engine.dispose()


def _finished_by_uid(path):
    """{study: {uid: trial}} of the finished trials of an SQLite file."""
    r = _rdb(path)
    try:
        return {
            s.study_name: {t.system_attrs[UID_KEY]: t for t in r.get_all_trials(s._study_id) if t.state.is_finished()}
            for s in r.get_all_studies()
        }
    finally:
        r.engine.dispose()


def _trial_key(t):
    return (sorted(t.params.items()), t.values, t.datetime_start, t.datetime_complete)


class _Driver:
    """One reconcile_driver.py process (a real process that runs the reconcile command per round)."""

    def __init__(self, name):
        self.name = name
        self.p = subprocess.Popen(
            [sys.executable, os.path.join(helpers.HERE, "reconcile_driver.py")],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
            env=dict(os.environ, PYTHONPATH=helpers.PACKAGE_DIR, PYTHONWARNINGS="ignore"),
        )

    def send(self, argv, gate, peer):
        self.p.stdin.write(json.dumps({"argv": argv, "gate": gate, "me": self.name, "peer": peer}) + "\n")
        self.p.stdin.flush()

    def reply(self, timeout=300):
        # One line per request, so nothing waits in the file object's buffer when select looks.
        ready, _, _ = select.select([self.p.stdout], [], [], timeout)
        assert ready, "reconcile driver %s gave no answer in %d s" % (self.name, timeout)
        line = self.p.stdout.readline()
        assert line, "reconcile driver %s ended (exit %s)" % (self.name, self.p.wait())
        return json.loads(line)

    def close(self):
        self.p.stdin.close()
        try:
            self.p.wait(30)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()


@requires_redis
def test_two_concurrent_reconcilers_copy_each_trial_once_over_50_rounds(redis_server, workdir):
    """Two hosts' SQLite files beside one Redis: host A finished a trial Redis keeps RUNNING
    and three of its own, host B three of its own and a study born during the outage; each
    file also holds the other's trials (copied, unique ids included). 50 rounds, each on a
    fresh prefix holding the same journal: two reconciler processes started together (on the
    two files, or every fourth round both on A's), every other round held at a gate until both
    have planned from the same Redis state. After each round plain Optuna sees every trial
    once, nothing RUNNING, and the two reports together copied each trial once."""
    server = redis_server()
    fa, fb = os.path.join(workdir, "host-a.db"), os.path.join(workdir, "host-b.db")
    split_study(server, fa, name="shared", on_redis=2, on_sqlite=3, running_twin=True)
    s = EnhancedRedisStorage(server.url, fb, prefix="p", probe_interval=3600)
    try:
        optuna.load_study(study_name="shared", storage=s)
        server.kill()
        optuna.load_study(study_name="shared", storage=s).optimize(objective, n_trials=3)
        born = optuna.create_study(storage=s, study_name="born", direction="maximize")
        born.set_user_attr("note", "outage")
        born.optimize(lambda t: t.suggest_float("a", 0, 1), n_trials=2)
        assert s.current_storage == "sqlite"
    finally:
        s.close()
    server.start()
    a_only = _finished_by_uid(fa)
    _copy_study(fa, fb, "shared")  # B's file holds A's finished trials too ...
    _copy_study(fb, fa, "born")  # ... and A's the study born on B
    # B's own trials stay B's: the copy above ran after A's were taken.
    files = {"a": _finished_by_uid(fa), "b": _finished_by_uid(fb)}
    # A: its RUNNING-in-Redis trial and 3 of its own; B: 3 of its own and A's 4; "born": 2.
    assert {k: {n: len(t) for n, t in v.items()} for k, v in files.items()} == {
        "a": {"shared": 4, "born": 2},
        "b": {"shared": 7, "born": 2},
    }
    uid_at = {
        k: {(n, t.number): u for n, ts in v.items() for u, t in ts.items()} for k, v in files.items()
    }
    assert set(a_only["shared"]) < set(files["b"]["shared"]), "the files share A's trials"
    base = {n: plain(server, "p", n).trials for n in ("shared",)}
    redis_uids = {t.system_attrs[UID_KEY]: t for t in base["shared"]}
    assert sorted(t.state.name for t in base["shared"]) == ["COMPLETE", "COMPLETE", "RUNNING"]
    c = server.client()
    journal = {k: c.get(k) for k in list(c.scan_iter(match="p:log:*")) + [b"p:log_number"]}

    drivers = [_Driver("a"), _Driver("b")]
    try:
        raced = 0
        for round_ in range(ROUNDS):
            prefix = "r%d" % round_
            c.mset({prefix.encode() + k[1:]: v for k, v in journal.items()})
            paths = [fa, fa] if round_ % 4 == 3 else [fa, fb]
            used = [files["a"] if p == fa else files["b"] for p in paths]
            gate = None
            if round_ % 2 == 0:
                gate = os.path.join(workdir, "gate-%d" % round_)
                os.mkdir(gate)
            for d, p, peer in zip(drivers, paths, ("b", "a")):
                d.send(["--redis", server.url, "--prefix", prefix, "--sqlite", p, "--json"], gate, peer)
            replies = [d.reply() for d in drivers]
            assert all(r["code"] == 0 for r in replies), (round_, replies)
            reports = [json.loads(r["out"]) for r in replies]
            if gate:
                assert [r["gate"] for r in replies] == ["met", "met"], (round_, replies)
            planned = [
                {uid_at["a" if p == fa else "b"][(st["study"], n)] for st in rep["studies"] for n in st["to_copy"]}
                for p, rep in zip(paths, reports)
            ]
            raced += bool(planned[0] & planned[1])
            if gate:
                assert planned[0] & planned[1], (round_, "the gate let both plan the same trials")

            # What the round must end with: the Redis trials, each finished SQLite trial of
            # the files used, once.
            sqlite_uids = {n: {} for n in ("shared", "born")}
            for f in used:
                for n, trials in f.items():
                    sqlite_uids[n].update(trials)
            copied = sum(1 for n, ts in sqlite_uids.items() for u in ts if u not in redis_uids)
            completed = sum(1 for u in sqlite_uids["shared"] if u in redis_uids and redis_uids[u].state.name == "RUNNING")
            totals = [rep["totals"] for rep in reports]
            assert sum(t["copied"] for t in totals) == copied, (round_, totals)
            assert sum(t["completed"] for t in totals) == completed == 1, (round_, totals)
            assert sum(t["studies_created"] for t in totals) >= 1, (round_, totals)
            # The study born during the outage is created once (a second CREATE_STUDY record
            # would be dropped by Optuna's replay, so it is counted in the journal itself).
            records = [json.loads(v) for v in c.mget(["%s:log:%d" % (prefix, i) for i in range(journal_length(server, prefix))])]
            assert [r.get("study_name") for r in records if r["op_code"] == 0].count("born") == 1, round_
            assert all(st["verified"] for rep in reports for st in rep["studies"]), (round_, reports)
            for n in ("shared", "born"):
                got = plain(server, prefix, n).trials
                uids = [t.system_attrs.get(UID_KEY) for t in got]
                want = dict(sqlite_uids[n])
                if n == "shared":
                    want.update({u: t for u, t in redis_uids.items() if u not in want})
                assert sorted(uids) == sorted(want), (round_, n, "each trial once")
                assert all(t.state.name == "COMPLETE" for t in got), (round_, n, [t.state.name for t in got])
                assert sorted(map(_trial_key, got)) == sorted(map(_trial_key, want.values())), (round_, n)
            assert plain(server, prefix, "born").user_attrs == {"note": "outage"}
        # Every gated round raced for the same trials; how often the free ones did is luck.
        print("rounds in which both processes planned the same trials: %d of %d" % (raced, ROUNDS))
    finally:
        for d in drivers:
            d.close()


@requires_redis
def test_a_reconcile_process_killed_halfway_finishes_when_run_again(redis_server, workdir):
    """A real reconcile process, SIGKILLed halfway through its copy: it reaches Redis through
    a gate that lets its first 5 trial scripts through and holds the rest of the pipeline, so
    the kill lands with 5 of 12 trials written, whatever the machine's load. Run again, it
    copies the other 7, and plain Optuna sees each trial once."""
    server = redis_server()
    fb = os.path.join(workdir, "optuna_fallback.db")
    expected = split_study(server, fb, on_redis=1, on_sqlite=12)
    before = journal_length(server)
    gate = helpers.ScriptGate(server.port, allow=5)
    try:
        p = subprocess.Popen(
            [sys.executable, "-m", "enhanced_redis_storage", "reconcile", "--redis", gate.url, "--prefix", "p",
             "--sqlite", fb, "--json"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            env=dict(os.environ, PYTHONPATH=helpers.PACKAGE_DIR, PYTHONWARNINGS="ignore"),
        )
        try:
            # Each trial is one record: the 5 scripts have run, the rest is held.
            helpers.wait_for(lambda: gate.held > 0 and journal_length(server) == before + 5, 120, "5 trials copied")
            assert p.poll() is None, p.communicate()
            os.kill(p.pid, signal.SIGKILL)
        finally:
            if p.poll() is None:
                p.kill()
            p.communicate()
        assert p.returncode == -signal.SIGKILL
    finally:
        gate.close()
    assert journal_length(server) == before + 5, "the held commands reached Redis after the kill"
    halfway = plain(server, "p", "split").trials
    assert len(halfway) == 1 + 5 and all(t.state.name == "COMPLETE" for t in halfway)

    code, report, err = reconcile(server.url, fb, "p", "--json")
    assert code == 0, (report, err)
    st = report["studies"][0]
    assert (st["copied"], st["already"], st["verified"]) == (7, 5, True), st
    assert_once(server, "split", expected)
    code, report, _ = reconcile(server.url, fb, "p", "--json")
    assert code == 0 and (report["totals"]["copied"], report["totals"]["already"]) == (0, 12), report
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
