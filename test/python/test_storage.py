"""EnhancedRedisStorage in one process against a real redis-server: settings, the journal
guards, lost replies, a journal that lost data, ids and the hidden unique id."""

import json
import os
import pickle
import subprocess
import threading
import time

import optuna
import pytest
import redis

import helpers
from conftest import requires_redis
from enhanced_redis_storage import EnhancedRedisStorage
from enhanced_redis_storage import StorageUnavailableError
from enhanced_redis_storage import config
from enhanced_redis_storage.errors import outage_cause
from enhanced_redis_storage.identity import UID_KEY
from enhanced_redis_storage.storage import SQLITE_ID_BASE

optuna.logging.set_verbosity(optuna.logging.WARNING)


def objective(trial):
    x = trial.suggest_float("x", -1, 1)
    trial.report(x, 0)
    return x * x


def settle(storage, timeout=30):
    """Until the storage has reconciled every SQLite trial of its studies into Redis."""

    def done():
        storage.sweep()
        return not storage.get_storage_status()["sqlite_pending_studies"]

    helpers.wait_for(done, timeout, "reconcile", 0.2)


@pytest.fixture
def make_storage(workdir):
    made = []

    def make(url, prefix="t", **options):
        s = EnhancedRedisStorage(url, os.path.join(workdir, "optuna_fallback.db"), prefix=prefix, **options)
        made.append(s)
        return s

    yield make
    for s in made:
        s.close()


# --- settings -----------------------------------------------------------------------------------


def test_settings_precedence_env_over_json_over_defaults(workdir):
    cfg = os.path.join(workdir, "redis_config.json")
    with open(cfg, "w") as f:
        json.dump({"host": "10.0.0.5", "port": 6390, "socket_timeout": 30, "max_connections": 50, "retry_on_timeout": True}, f)
    s = config.resolve(env={config.ENV_CONFIG: cfg})
    assert s.redis_url == "redis://10.0.0.5:6390/0"
    assert s.max_connections == 50 and s.retry_on_timeout is True
    # The guide's 30 s would make a 5 s failover impossible on a frozen server: journal commands
    # are capped, the snapshot keeps the long timeout.
    assert s.command_timeout == config.MAX_COMMAND_TIMEOUT and s.snapshot_timeout == 30
    s = config.resolve(env={config.ENV_CONFIG: cfg, config.ENV_URL: "redis://127.0.0.1:7000", config.ENV_PREFIX: "p",
                            config.ENV_SQLITE: os.path.join(workdir, "x.db"), config.ENV_PASSWORD: "pw"})
    assert (s.redis_url, s.prefix, s.fallback_path, s.password) == ("redis://127.0.0.1:7000", "p", os.path.join(workdir, "x.db"), "pw")
    s = config.resolve("redis://h:1", env={config.ENV_URL: "redis://127.0.0.1:7000"})
    assert s.redis_url == "redis://h:1"
    d = config.resolve(env={config.ENV_CONFIG: os.path.join(workdir, "absent.json")})
    assert d.redis_url == config.DEFAULT_URL and d.prefix == "" and d.fallback_path == os.path.abspath("optuna_fallback.db")


def test_settings_errors_say_what_to_change(workdir):
    with pytest.raises(config.ConfigError, match="unknown option"):
        config.resolve(options={"sockettimeout": 1}, env={})
    with pytest.raises(config.ConfigError, match="master name"):
        config.resolve(env={config.ENV_SENTINELS: "127.0.0.1:26379"})
    with pytest.raises(config.ConfigError, match="must start with"):
        config.resolve("http://x", env={})
    bad = os.path.join(workdir, "bad.json")
    with open(bad, "w") as f:
        f.write("{not json")
    with pytest.raises(config.ConfigError, match="cannot read"):
        config.resolve(env={config.ENV_CONFIG: bad})
    assert config.parse_sentinels("a:1, [::1]:2") == [("a", 1), ("::1", 2)]


def test_password_never_in_descriptions():
    assert config.redact_url("redis://:s3cret@h:6379/0") == "redis://:***@h:6379/0"
    assert config.redact_url("redis://user:s3cret@h/0") == "redis://user:***@h/0"
    s = config.resolve("redis://:s3cret@127.0.0.1:1", env={config.ENV_PASSWORD: "other"})
    assert "s3cret" not in json.dumps(s.describe()) and "other" not in json.dumps(s.describe())


def test_outage_causes_and_errors_that_must_surface():
    rex = redis.exceptions
    assert outage_cause(rex.ConnectionError("Connection refused"))
    assert outage_cause(rex.TimeoutError("Timeout reading from socket"))
    assert outage_cause(rex.BusyLoadingError("LOADING")) == "loading its data set (LOADING)"
    assert outage_cause(rex.ReadOnlyError("READONLY You can't write")) == "read-only replica"
    assert "OOM" in outage_cause(rex.ResponseError("OOM command not allowed when used memory > 'maxmemory'."))
    assert "MISCONF" in outage_cause(rex.ResponseError("MISCONF Redis is configured to save RDB snapshots"))
    assert "MASTERDOWN" in outage_cause(rex.ResponseError("MASTERDOWN Link with MASTER is down"))
    assert outage_cause(rex.ResponseError("JOURNAL_REFUSED the counter is missing")).startswith("journal damaged")
    for e in (rex.ResponseError("WRONGTYPE Operation against a key"), KeyError("x"), ValueError("y"), RuntimeError("finished")):
        assert outage_cause(e) is None


# --- against a real server ------------------------------------------------------------------------


@requires_redis
def test_trials_look_as_optuna_made_them_and_carry_a_hidden_unique_id(redis_server, make_storage):
    server = redis_server()
    s = make_storage(server.url)
    study = optuna.create_study(storage=s, study_name="ids")
    study.optimize(objective, n_trials=3)
    assert [t.system_attrs for t in study.trials] == [{}, {}, {}]
    assert s.get_trial(study.trials[0]._trial_id).system_attrs == {}
    raw = optuna.storages.JournalStorage(optuna.storages.JournalRedisStorage(server.url, prefix="t"))
    uids = [t.system_attrs[UID_KEY] for t in optuna.load_study(study_name="ids", storage=raw).trials]
    assert len(set(uids)) == 3 and all(len(u) == 32 for u in uids)
    assert s.get_storage_info()["redis_url"] == server.url
    assert s.get_storage_info()["optuna_version"] == optuna.__version__


_STARTS = """
import datetime, sys
import optuna
from enhanced_redis_storage import EnhancedRedisStorage
s = EnhancedRedisStorage(sys.argv[1], sys.argv[2], prefix="starts")
sid = s.create_new_study(directions=[optuna.study.StudyDirection.MINIMIZE])
late = 0
for _ in range(2000):
    before = datetime.datetime.now()
    if not s.get_trial(s.create_new_trial(sid)).datetime_start > before:
        late += 1
s.close()
print(late)
"""


@requires_redis
def test_a_new_trial_starts_strictly_after_the_call_began(redis_server, workdir):
    """Optuna's conformance test reads the time, creates a trial and requires a strictly later
    start. Stamped on entry, 8-16 % of 2,000 trials started in the caller's microsecond in a
    plain process (under pytest the calls are slower and it rarely shows, hence the child)."""
    out = subprocess.run(
        [helpers.PYTHON, "-c", _STARTS, redis_server().url, os.path.join(workdir, "f.db")],
        env=helpers.worker_env("3.1.0"),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.split() == ["0"]


@requires_redis
def test_lost_replies_after_the_server_appended_never_double_a_record(redis_server, make_storage):
    """200 appends whose reply is lost after Redis executed them (the proxy cuts the
    connection): each is sent again under the same writer sequence and applied once."""
    server = redis_server()
    proxy = helpers.ReplyDropProxy(server.port)
    try:
        s = make_storage(proxy.url, prefix="amb")
        study = optuna.create_study(storage=s, study_name="amb")
        proxy.drop(200)
        n = 0
        while proxy.dropped < 200:
            study.optimize(objective, n_trials=1)
            n += 1
            assert n < 400, "the proxy stopped dropping replies"
        assert proxy.dropped == 200
        assert s.current_storage == "redis", s.get_storage_status()
        entries = server.client().mget(["amb:log:%d" % i for i in range(int(server.client().get("amb:log_number")) + 1)])
        assert None not in entries
        assert len(entries) == len(set(entries)), "a record was appended twice"
        plain = optuna.load_study(
            study_name="amb",
            storage=optuna.storages.JournalStorage(optuna.storages.JournalRedisStorage(server.url, prefix="amb")),
        )
        assert len(plain.trials) == n and all(t.state == optuna.trial.TrialState.COMPLETE for t in plain.trials)
    finally:
        proxy.close()


@requires_redis
def test_an_append_executed_late_is_fenced_not_doubled(redis_server, make_storage):
    """The server executes an append after the client timed out (a frozen or paused server
    resuming): the storage fails over, and at recovery finds the record applied, so the copy
    it kept for Redis is dropped."""
    server = redis_server()
    proxy = helpers.ReplyDropProxy(server.port)
    try:
        s = make_storage(proxy.url, prefix="late", probe_interval=0.1)
        study = optuna.create_study(storage=s, study_name="late")
        study.optimize(objective, n_trials=2)
        proxy.delay(2.5)  # > the 1 s command timeout
        study.optimize(objective, n_trials=1)
        assert s.current_storage in ("sqlite", "recovering", "redis")
        assert s.get_storage_status()["last_failover"]["cause"].startswith("timeout")
        # The held append reaches the server (before or after recovery: applied, or fenced).
        assert proxy.late_done.wait(10) and proxy.late_replies, "the held append never ran"
        helpers.wait_for(lambda: s.current_storage == "redis", 20, "recovery")
        study.optimize(objective, n_trials=2)
        settle(s)
        c = server.client()
        entries = c.mget(["late:log:%d" % i for i in range(int(c.get("late:log_number")) + 1)])
        assert len(entries) == len(set(entries)), "a record was appended twice"
        plain = optuna.load_study(
            study_name="late",
            storage=optuna.storages.JournalStorage(optuna.storages.JournalRedisStorage(server.url, prefix="late")),
        )
        states = [t.state.name for t in plain.trials]
        assert states.count("COMPLETE") == 5 and "RUNNING" not in states, states
    finally:
        proxy.close()


@requires_redis
def test_refuses_a_journal_whose_counter_vanished_while_entries_remain(redis_server, make_storage):
    server = redis_server()
    s = make_storage(server.url, prefix="cnt")
    study = optuna.create_study(storage=s, study_name="cnt")
    study.optimize(objective, n_trials=2)
    c = server.client()
    n_before = len(c.keys("cnt:log:*"))
    c.delete("cnt:log_number")
    study.optimize(objective, n_trials=2)  # goes on, on SQLite
    st = s.get_storage_status()
    assert st["current_storage"] == "held" and "gone" in st["cause"], st
    assert c.get("cnt:log_number") is None and len(c.keys("cnt:log:*")) == n_before, "wrote into the damaged journal"
    assert len(study.trials) == 4


@requires_redis
def test_a_held_process_writes_no_status_key(redis_server, make_storage):
    """Held (Redis answers, its journal lost what the process wrote): nothing is written to
    that Redis, the status key included; the file goes on saying "held"."""
    server = redis_server()
    s = make_storage(server.url, prefix="hk", status_interval=0.2)
    study = optuna.create_study(storage=s, study_name="hk")
    study.optimize(objective, n_trials=1)
    c = server.client()
    key = s._status.key
    helpers.wait_for(lambda: c.get(key), 30, "the status key")
    c.delete("hk:log_number")
    study.optimize(objective, n_trials=1)  # goes on, on SQLite, held
    assert s.current_storage == "held"
    c.delete(key)

    def beats():
        with open(s._status.path) as f:
            doc = json.load(f)
        assert doc["current_storage"] == "held", doc
        return doc["updated"]

    first = beats()
    helpers.wait_for(lambda: beats() > first + 0.5, 30, "heartbeats while held")
    assert c.get(key) is None, "a held process wrote its status key"


@requires_redis
def test_a_rolled_back_journal_is_held_even_when_refilled(redis_server, make_storage):
    """Redis comes back with an older journal that other writers then refill past the length
    this process had read: the entry it read last is different, so it never writes there."""
    server = redis_server()
    s = make_storage(server.url, prefix="rb", probe_interval=0.5)
    study = optuna.create_study(storage=s, study_name="rb")
    study.optimize(objective, n_trials=3)
    c = server.client()
    n = int(c.get("rb:log_number"))
    server.stop()
    study.optimize(objective, n_trials=1)  # fails over (timeout)
    server.cont()
    # Roll back: the last two entries are replaced by different ones.
    c.set("rb:log:%d" % n, json.dumps({"op_code": 8, "worker_id": "other", "trial_id": 0, "user_attr": {"a": 1}}))
    helpers.wait_for(lambda: s.current_storage == "held", 10, "the journal check after Redis answers")
    st = s.get_storage_status()
    assert "changed" in st["cause"], st
    count = c.get("rb:log_number")
    study.optimize(objective, n_trials=2)
    assert c.get("rb:log_number") == count, "wrote into a rolled-back journal"
    assert not c.keys("rb:enhanced:trial:*"), "reconciled into a rolled-back journal"


@requires_redis
def test_a_snapshot_this_release_cannot_read_is_ignored(redis_server, make_storage):
    server = redis_server()
    s = make_storage(server.url, prefix="snap")
    optuna.create_study(storage=s, study_name="snap").optimize(objective, n_trials=2)
    # What a 3.x snapshot looks like to 4.x: a pickle of classes that do not exist here.
    server.client().set("snap:snapshot", b"\x80\x04\x95\x1c\x00\x00\x00\x00\x00\x00\x00\x8c\x0bno_such_mod\x94\x8c\x03Cls\x94\x93\x94.")
    s2 = make_storage(server.url, prefix="snap")
    assert len(optuna.load_study(study_name="snap", storage=s2).trials) == 2


@requires_redis
def test_when_both_storages_fail_one_error_names_both(redis_server, workdir):
    blocker = os.path.join(workdir, "not-a-dir")
    open(blocker, "w").close()
    s = EnhancedRedisStorage("redis://127.0.0.1:%d" % helpers.free_port(), os.path.join(blocker, "fb.db"), prefix="x")
    try:
        with pytest.raises(StorageUnavailableError) as e:
            optuna.create_study(storage=s, study_name="both")
        msg = str(e.value)
        assert "Redis is unavailable (connection error" in msg and "SQLite fallback could not be opened" in msg, msg
        assert s.get_storage_status()["failed_calls"] == 1
    finally:
        s.close()


@requires_redis
def test_sqlite_ids_never_collide_with_journal_ids_and_never_alias_a_deleted_study(workdir):
    s = EnhancedRedisStorage("redis://127.0.0.1:%d" % helpers.free_port(), os.path.join(workdir, "fb.db"), prefix="x")
    try:
        a = optuna.create_study(storage=s, study_name="a")
        a.optimize(objective, n_trials=2)
        assert a._study_id >= SQLITE_ID_BASE and a.trials[0]._trial_id >= SQLITE_ID_BASE
        assert [t.number for t in a.trials] == [0, 1]
        b_id = s.create_new_study([optuna.study.StudyDirection.MINIMIZE], "b")
        s.delete_study(b_id)
        c_id = s.create_new_study([optuna.study.StudyDirection.MINIMIZE], "c")
        assert c_id != b_id  # SQLite reuses the row id; the name hash keeps the ids apart
        with pytest.raises(KeyError):
            s.get_study_name_from_id(b_id)
    finally:
        s.close()


@requires_redis
def test_status_file_tracks_the_state_and_goes_away(redis_server, make_storage, workdir):
    server = redis_server()
    s = make_storage(server.url, prefix="st", probe_interval=0.1)
    optuna.create_study(storage=s, study_name="st").optimize(objective, n_trials=1)
    path = s._status.path
    assert os.path.dirname(path) == os.path.join(workdir, "optuna_fallback.db.writers")
    with open(path) as f:
        assert json.load(f)["current_storage"] == "redis"
    server.kill()
    optuna.load_study(study_name="st", storage=s).optimize(objective, n_trials=1)
    with open(path) as f:
        st = json.load(f)
    assert st["current_storage"] == "sqlite" and st["pid"] == os.getpid() and "cause" in st
    assert [n for n in os.listdir(os.path.dirname(path)) if n.startswith(".status-")] == []
    s.close()
    assert not os.path.exists(path)


@requires_redis
def test_status_heartbeat_file_and_redis_key(redis_server, make_storage, workdir, monkeypatch):
    """The heartbeat moves ``updated`` on; the key is in Redis while the process writes there
    (with a TTL, so a dead process vanishes), is not refreshed while on SQLite, and goes at
    close. The run id the extension passes is in both."""
    monkeypatch.setenv("OPTUNA_STORAGE_RUN_ID", "run-42")
    server = redis_server()
    s = make_storage(server.url, prefix="hb", probe_interval=0.1, status_interval=0.2)
    optuna.create_study(storage=s, study_name="hb").optimize(objective, n_trials=1)
    key = "hb:enhanced:status:%s" % s._writer_id
    assert s._status.key == key
    r = server.client()
    doc = json.loads(helpers.wait_for(lambda: r.get(key), 30, "the status key"))
    assert doc["current_storage"] == "redis" and doc["run_id"] == "run-42" and doc["pid"] == os.getpid()
    assert 0 < r.ttl(key) <= 15
    with open(s._status.path) as f:
        first = json.load(f)
    assert first["run_id"] == "run-42" and first["heartbeat"] == 0.2

    def moved():
        with open(s._status.path) as f:
            return json.load(f)["updated"] > first["updated"]

    helpers.wait_for(moved, 30, "a heartbeat")
    s.close()
    assert r.get(key) is None and not os.path.exists(s._status.path)


@requires_redis
def test_status_files_of_dead_processes_of_this_host_are_removed(redis_server, make_storage, workdir):
    """A process killed with SIGKILL leaves its file; the next process on that fallback file
    removes it (never a live process's file, nor another host's)."""
    import socket
    import subprocess

    d = os.path.join(workdir, "optuna_fallback.db.writers")
    os.makedirs(d)
    dead = subprocess.Popen(["true"])
    dead.wait()
    host = socket.gethostname()
    names = {
        "dead": "%s-%d-aaaaaaaa.json" % (host, dead.pid),
        "live": "%s-%d-bbbbbbbb.json" % (host, os.getppid()),
        "other": "another-host-%d-cccccccc.json" % dead.pid,
    }
    for n in names.values():
        with open(os.path.join(d, n), "w") as f:
            f.write("{}")
    server = redis_server()
    s = make_storage(server.url, prefix="dead")
    left = set(os.listdir(d))
    assert names["dead"] not in left
    assert {names["live"], names["other"], os.path.basename(s._status.path)} <= left


@requires_redis
def test_status_key_is_written_only_while_on_redis(redis_server, make_storage):
    """Off Redis the key is left to expire (the file tells the state); back on Redis it is
    fresh again. Every document ever seen in the key says "redis"."""
    server = redis_server()
    s = make_storage(server.url, prefix="hs", probe_interval=0.1, status_interval=0.2)
    optuna.create_study(storage=s, study_name="hs").optimize(objective, n_trials=1)
    key = s._status.key
    r = server.client()
    seen = []

    def key_doc():
        raw = r.get(key)
        if raw is not None:
            seen.append(json.loads(raw))
        return raw

    helpers.wait_for(key_doc, 30, "the status key")
    server.stop()  # frozen: the process fails over to SQLite
    try:
        optuna.load_study(study_name="hs", storage=s).optimize(objective, n_trials=1)
        assert s.current_storage == "sqlite"
        with open(s._status.path) as f:
            assert json.load(f)["current_storage"] == "sqlite"
    finally:
        server.cont()
    helpers.wait_for(lambda: key_doc() and seen[-1]["last_recovery"] is not None, 60, "the key after recovery")
    assert {d["current_storage"] for d in seen} == {"redis"}
    assert seen[0]["last_failover"] is None and seen[-1]["last_failover"]["cause"]


@requires_redis
def test_threads_share_one_state_through_an_outage(redis_server, make_storage):
    server = redis_server()
    s = make_storage(server.url, prefix="thr", probe_interval=0.1)
    study = optuna.create_study(storage=s, study_name="thr")
    stop = threading.Event()

    def outage():
        time.sleep(1.0)
        server.kill()
        time.sleep(2.0)
        server.start()
        helpers.wait_for(lambda: s.current_storage == "redis", 20, "recovery")
        time.sleep(0.5)
        stop.set()

    def slow(trial):
        x = trial.suggest_float("x", -1, 1)
        trial.set_user_attr("token", "%d-%f" % (threading.get_ident(), time.time()))
        time.sleep(0.05)
        return x

    t = threading.Thread(target=outage)
    t.start()
    study.optimize(slow, n_jobs=4, timeout=60, callbacks=[lambda st, tr: stop.is_set() and st.stop()])
    t.join()
    settle(s)
    tokens = [tr.user_attrs.get("token") for tr in study.trials if tr.state.name == "COMPLETE"]
    plain = optuna.load_study(
        study_name="thr", storage=optuna.storages.JournalStorage(optuna.storages.JournalRedisStorage(server.url, prefix="thr"))
    )
    plain_tokens = [tr.user_attrs.get("token") for tr in plain.trials if tr.state.name == "COMPLETE"]
    assert sorted(plain_tokens) == sorted(set(plain_tokens)), "doubled in Redis"
    assert set(tokens) <= set(plain_tokens), "lost from Redis"
    assert not [tr for tr in plain.trials if tr.state.name == "RUNNING"]
    assert s.get_storage_status()["last_failover"] is not None
    assert s.get_storage_status()["reconcile_problems"] == []


@requires_redis
def test_pickled_into_a_child_process(redis_server, make_storage, workdir):
    server = redis_server()
    s = make_storage(server.url, prefix="pk")
    optuna.create_study(storage=s, study_name="pk")
    blob = os.path.join(workdir, "storage.pickle")
    with open(blob, "wb") as f:
        pickle.dump(s, f)
    assert b"s3cret" not in open(blob, "rb").read()
    log = os.path.join(workdir, "child.jsonl")
    p = helpers.spawn_worker("3.1.0", ["--url", "-", "--sqlite", "-", "--study", "pk", "--pickled", blob, "--trials", "3"], log)
    assert p.wait(120) == 0, open(log + ".stderr").read()
    trials = [e for e in helpers.read_jsonl(log) if e.get("event") == "trial"]
    assert len(trials) == 3 and all(t["storage"] == "redis" for t in trials)
    assert len(optuna.load_study(study_name="pk", storage=s).trials) == 3
