"""EnhancedRedisStorage: Optuna's Redis journal storage that keeps the optimizer writing
through a Redis outage, on the SQLite fallback file, and returns to Redis afterwards.

One state per process, shared by its threads::

    redis --(outage)--> sqlite --(PONGs, journal intact)--> recovering --> redis
                          \\--(journal lost or rolled back)--> held (SQLite only; written
                              to Redis again only once the journal is intact)

* **redis**: every call goes to Optuna's JournalStorage over the guarded backend.
* **sqlite**: the last Redis replay stays in memory (samplers keep the study's history). New
  trials are created in an SQLite copy of the study. A trial born on Redis that is updated
  during the outage gets a shadow in SQLite (validated there) and its exact journal records,
  built by Optuna, wait in an outbox. Reads are the union: the Redis replay, with shadows
  over the trials they stand for, plus the SQLite trials Redis does not have.
* **recovering**: a few consecutive PONGs, the journal checked intact, the unresolved append
  fenced, the outbox flushed (each finished trial once, behind its marker), then the SQLite
  trials reconciled into Redis (``reconcile``).

Trial and study ids: Redis ids are the journal's; SQLite ones are offset by ``SQLITE_ID_BASE``
(studies also carry a hash of their name, so an id is never reused for another study).
Numbers: a SQLite trial is numbered after the Redis trials of its study.
"""

import copy
import datetime
import json
import logging
import os
import socket
import threading
import time
import uuid
import weakref
import zlib
from typing import Any
from typing import Callable
from typing import Container
from typing import Dict
from typing import List
from typing import Optional
from typing import Sequence
from typing import Set
from typing import Tuple

import optuna
import redis
from optuna.distributions import BaseDistribution
from optuna.exceptions import DuplicatedStudyError
from optuna.storages import BaseStorage
from optuna.study._frozen import FrozenStudy
from optuna.study._study_direction import StudyDirection
from optuna.trial import FrozenTrial
from optuna.trial import TrialState

from . import config as _config
from ._client import Clients
from ._compat import OPTUNA_VERSION
from ._compat import JournalOperation
from ._compat import JournalStorage
from ._compat import journal_time
from ._compat import quietly
from .errors import StorageUnavailableError
from .errors import is_damage
from .errors import outage_cause
from .fallback import Fallback
from .fallback import fresh_trials
from .identity import ORIGIN_KEY
from .identity import PACKAGE_ATTR_PREFIX
from .identity import UID_KEY
from .identity import hide_uid
from .identity import new_uid
from .identity import trial_marker_key
from .identity import uid_of
from .journal_backend import MARKER_TAKEN
from .journal_backend import Attempt
from .journal_backend import GuardedRedisJournal
from .reconcile import Reconciler
from .status import StatusPublisher

_logger = logging.getLogger("optuna.storages.enhanced_redis")

SQLITE_ID_BASE = 1 << 50
_STUDY_SLOT_BITS = 24
_NOT_FOUND = "Record does not exist."

REDIS = "redis"
SQLITE = "sqlite"
RECOVERING = "recovering"
HELD = "held"


def _name_hash(name: str) -> int:
    return zlib.crc32(name.encode("utf-8")) & 0xFFFFF


def _sqlite_study_ext(qsid: int, name: str) -> int:
    return SQLITE_ID_BASE + (_name_hash(name) << _STUDY_SLOT_BITS) + qsid


def _own_attrs(attrs: Dict[str, Any]) -> Dict[str, Any]:
    """A study's system attributes without this package's bookkeeping (ORIGIN_KEY)."""
    return {k: v for k, v in attrs.items() if not k.startswith(PACKAGE_ATTR_PREFIX)}


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds")


def _sqlite_infra_error(e: BaseException) -> bool:
    """The SQLite file itself failed (locked, disk, schema), as opposed to the caller's error."""
    import sqlite3

    try:
        import sqlalchemy.exc as sa_exc
    except ImportError:  # pragma: no cover - RDBStorage needs SQLAlchemy
        sa_exc = None
    if isinstance(e, (optuna.exceptions.StorageInternalError, sqlite3.Error, OSError)):
        return True
    return sa_exc is not None and isinstance(e, (sa_exc.OperationalError, sa_exc.DatabaseError, sa_exc.InterfaceError))


class _OutboxEntry:
    """Journal records of one call made on a Redis trial or study during an outage."""

    __slots__ = ("trial_id", "uid", "records", "finishes", "in_doubt_seq")

    def __init__(
        self,
        trial_id: Optional[int],
        uid: Optional[str],
        records: List[Dict[str, Any]],
        finishes: bool,
        in_doubt_seq: Optional[int],
    ) -> None:
        self.trial_id = trial_id
        self.uid = uid
        self.records = records
        self.finishes = finishes
        self.in_doubt_seq = in_doubt_seq


class EnhancedRedisStorage(BaseStorage):
    """An ``optuna.storages.BaseStorage`` on a Redis journal with an SQLite fallback.

    Args:
        redis_url: ``redis://[:password@]host:port[/db]`` (default: environment, the guide's
            ``redis_config.json``, then ``redis://127.0.0.1:6379``).
        fallback_path: the SQLite file used while Redis is down (``./optuna_fallback.db``).
        prefix: the journal's key prefix (``""``, as Optuna's default).
        options: ``socket_timeout``, ``connect_timeout``, ``health_check_interval``,
            ``max_connections``, ``retry_on_timeout`` (the guide's names; see the README for
            what each does here), ``password``, ``sentinels``, ``sentinel_master``,
            ``command_timeout``, ``probe_interval``, ``recovery_pongs``, ``sqlite_timeout``,
            ``sweep_interval``, ``status_file``, ``status_interval`` (seconds between the
            heartbeats of the status file and key, default 5).
    """

    def __init__(
        self,
        redis_url: Optional[str] = None,
        fallback_path: Optional[str] = None,
        prefix: Optional[str] = None,
        **options: Any,
    ) -> None:
        self._settings = _config.resolve(redis_url, fallback_path, prefix, options)
        self._start()

    # --- lifecycle ----------------------------------------------------------------------------
    def __getstate__(self) -> Dict[str, Any]:
        # Like Optuna's storages: only the configuration travels; the child connects anew.
        return {"_settings": self._settings}

    def __setstate__(self, state: Dict[str, Any]) -> None:
        self._settings = state["_settings"]
        self._start()

    def _start(self) -> None:
        s = self._settings
        self._pid = os.getpid()
        self._lock = threading.RLock()
        self._clients = Clients(s)
        self._writer_id = uuid.uuid4().hex
        self._backend = GuardedRedisJournal(self._clients, s.prefix, self._writer_id)
        with self._backend.replay_only():  # built without touching Redis; loaded below
            self._journal: JournalStorage = quietly(lambda: JournalStorage(self._backend))
        self._fallback = Fallback(s.fallback_path, s.sqlite_timeout, on_ready=lambda: self._status.publish())
        self._state = REDIS
        self._cause: Optional[str] = None
        self._since = _now()
        self._redis_available: Optional[bool] = None
        self._last_failover: Optional[Dict[str, Any]] = None
        self._last_recovery: Optional[Dict[str, Any]] = None
        self._failover_started: Optional[float] = None
        self._in_doubt: List[Attempt] = []
        self._outbox: List[_OutboxEntry] = []
        self._shadows: Dict[int, int] = {}  # Redis trial id -> its SQLite shadow's id
        self._mirror: Set[int] = set()  # Redis trials whose shadow still follows them
        self._sqlite_running: Set[int] = set()  # this process's SQLite-born unfinished trials
        self._pending: Set[str] = set()  # studies whose SQLite copy may hold what Redis lacks
        self._copies_synced: Set[str] = set()
        self._sqlite_names: Dict[int, str] = {}
        self._sqlite_ids: Dict[str, int] = {}
        self._qtid_study: Dict[int, int] = {}
        self._views: Dict[int, Tuple[FrozenTrial, FrozenTrial]] = {}
        self._uid_index: Dict[int, Tuple[int, Dict[str, int]]] = {}
        self._calls = 0
        self._failed_calls = 0
        self._reconciled_total = 0
        self._problems: List[str] = []
        self._sweep_requested = False
        self._closed = False
        self._prober: Optional[threading.Thread] = None
        self._wake = threading.Event()
        self._status = StatusPublisher(self)
        self._fallback.start()
        self._initial_load()

    def _initial_load(self) -> None:
        t0 = time.monotonic()
        try:
            self._load_replay()
            self._redis_available = True
        except Exception as e:
            cause = outage_cause(e)
            if cause is None:
                raise
            self._failover(cause, None, t0, during="startup")
        self._status.publish()

    def _load_replay(self) -> None:
        j = self._journal
        if j._replay_result.log_number_read == 0:
            snapshot = self._backend.load_snapshot()
            if snapshot is not None:
                with j._thread_lock:
                    j.restore_replay_result(snapshot)
        j.get_all_studies()  # syncs

    def close(self) -> None:
        """Stops the health probe, closes the connections and the SQLite engine."""
        self._closed = True
        self._wake.set()
        self._status.remove()
        self._clients.close()
        self._fallback.dispose()

    def _check_pid(self) -> None:
        # A forked child must not share sockets, SQLite connections or the journal's worker id
        # with its parent.
        if os.getpid() != self._pid:
            with self._lock:
                if os.getpid() != self._pid:
                    self._start()

    # --- status ---------------------------------------------------------------------------------
    @property
    def current_storage(self) -> str:
        return self._state

    def get_storage_status(self) -> Dict[str, Any]:
        pending = len(self._outbox) + len(self._in_doubt)
        return {
            "redis_available": bool(self._redis_available),
            "current_storage": self._state,
            "fallback_active": self._state != REDIS,
            "since": self._since,
            "cause": self._cause,
            "last_failover": dict(self._last_failover) if self._last_failover else None,
            "last_recovery": dict(self._last_recovery) if self._last_recovery else None,
            "outbox_pending": pending,
            "sqlite_pending_studies": sorted(self._pending),
            "reconcile_problems": list(self._problems),
            "fallback_path": self._settings.fallback_path,
            "fallback_ready": self._fallback.opened,
            "fallback_error": self._fallback.error,
            "prefix": self._settings.prefix,
            "calls": self._calls,
            "failed_calls": self._failed_calls,
            "pid": self._pid,
            "host": socket.gethostname(),
        }

    def get_storage_info(self) -> Dict[str, Any]:
        info = self._settings.describe()
        info.update(
            {
                "optuna_version": OPTUNA_VERSION,
                "redis_py_version": redis.__version__,
                "writer_id": self._writer_id,
                "pool_class": type(self._clients.journal.connection_pool).__name__,
            }
        )
        return info

    # --- failover and recovery ----------------------------------------------------------------
    def _failover(self, cause: str, attempt: Optional[Attempt], t0: float, during: str = "call") -> None:
        with self._lock:
            if attempt is not None and attempt.outcome == "unknown" and attempt not in self._in_doubt:
                self._in_doubt.append(attempt)
            if self._state not in (REDIS, RECOVERING):
                return
            self._backend.offline = True
            self._state = HELD if is_damage(cause) else SQLITE
            self._cause = cause
            self._since = _now()
            self._redis_available = False if not is_damage(cause) else True
            self._copies_synced.clear()
            self._failover_started = t0
            self._last_failover = {"at": self._since, "cause": cause, "ms": None, "during": during}
            _logger.warning(
                "Redis journal unavailable (%s); continuing on the SQLite fallback %s%s",
                cause,
                self._settings.fallback_path,
                " and never writing to this journal until it is intact again" if self._state == HELD else "",
            )
            self._start_prober()
        self._status.publish()

    def _served_after_failover(self) -> None:
        if self._failover_started is not None and self._last_failover is not None:
            self._last_failover["ms"] = round((time.monotonic() - self._failover_started) * 1000, 1)
            self._failover_started = None

    def _start_prober(self) -> None:
        if self._prober is not None and self._prober.is_alive():
            self._wake.set()
            return
        self._wake.clear()
        self._prober = threading.Thread(
            target=_probe_loop, args=(weakref.ref(self),), name="enhanced-storage-probe", daemon=True
        )
        self._prober.start()

    def _probe_once(self) -> bool:
        try:
            ok = bool(self._clients.probe.ping())
        except Exception:
            ok = False
        if ok != self._redis_available and self._state != HELD:
            self._redis_available = ok
            self._status.publish()
        return ok

    def _recover(self) -> bool:
        """Returns True when back on Redis."""
        t0 = time.monotonic()
        with self._lock:
            if self._state not in (SQLITE, HELD):
                return self._state == REDIS
            previous = self._state
            try:
                # Checked before the state says "recovering": a journal that is still not
                # intact leaves a held process held, without a flicker.
                with self._journal._thread_lock:
                    self._backend.verify_intact()
                self._state = RECOVERING
                self._backend.offline = False
                self._status.publish()
                flushed = self._recover_locked()
            except Exception as e:
                cause = outage_cause(e)
                if cause is None:
                    cause = "recovery failed: %r" % e
                    if cause != self._cause:
                        _logger.error("%s; staying on SQLite", cause)
                held = is_damage(cause)
                self._backend.offline = True
                self._state = HELD if held else SQLITE
                self._redis_available = held  # held: Redis answers, its journal is not ours
                if held and (previous != HELD or self._cause != cause):
                    _logger.error(
                        "Redis answers but its journal is not the one this process wrote to (%s): "
                        "staying on SQLite (%s) and writing nothing to Redis",
                        cause,
                        self._settings.fallback_path,
                    )
                self._cause = cause
                self._status.publish()
                return False
            self._state = REDIS
            self._cause = None
            self._since = _now()
            self._redis_available = True
            self._last_recovery = {
                "at": self._since,
                "ms": round((time.monotonic() - t0) * 1000, 1),
                "flushed": flushed,
                "reconciled": 0,
            }
            _logger.warning("Redis journal back: writing to Redis again (%d outage records flushed)", flushed)
        self._status.publish()
        reconciled = self._reconcile_pending()
        if self._last_recovery is not None:
            self._last_recovery["reconciled"] = reconciled
        self._status.publish()
        return True

    def _recover_locked(self) -> int:
        b = self._backend
        j = self._journal
        # Resolve the append whose reply was lost: applied, or fenced so it never applies.
        for attempt in list(self._in_doubt):
            applied = b.fence(attempt.seq)
            attempt.outcome = "applied" if applied else "not-applied"
            if applied:
                self._outbox = [e for e in self._outbox if e.in_doubt_seq != attempt.seq]
            self._in_doubt.remove(attempt)
        b.blocked = None
        # A write probe (also refused by a read-only replica or a full server).
        b.probe_write()
        if j._replay_result.log_number_read == 0:
            self._load_replay()
        else:
            j.get_all_studies()
        flushed = self._flush_outbox()
        j.get_all_studies()
        return flushed

    def _flush_outbox(self) -> int:
        """Sends the outage's records: per finished trial in one script behind its marker
        (a reconciler may have completed it from its shadow already); others as they are."""
        groups: Dict[Any, List[_OutboxEntry]] = {}
        order: List[Any] = []
        for e in self._outbox:
            key = ("trial", e.trial_id) if e.trial_id is not None else ("study", id(e))
            if key not in groups:
                groups[key] = []
                order.append(key)
            groups[key].append(e)
        flushed = 0
        for key in order:
            entries = groups[key]
            records = [json.dumps(r) for e in entries for r in e.records]
            finished = any(e.finishes for e in entries)
            marker = None
            if finished and entries[0].uid:
                marker = (trial_marker_key(self._settings.prefix, entries[0].uid), "1")
            status, _ = self._backend.append_records(records, marker)
            if status != MARKER_TAKEN:
                flushed += len(records)
            for e in entries:
                self._outbox.remove(e)
            if key[0] == "trial" and not finished:
                self._mirror.add(key[1])
        return flushed

    def _reconciler(self) -> Optional[Reconciler]:
        fb = self._fallback.storage()
        if fb is None:
            return None
        return Reconciler(self._journal, self._backend, fb)

    def _reconcile_pending(self, names: Optional[Set[str]] = None) -> int:
        """Reconciles the studies whose SQLite copy may hold trials Redis lacks; keeps a study
        pending while trials remain (running, or refused)."""
        r = self._reconciler()
        if r is None:
            return 0
        total = 0
        for name in sorted(names if names is not None else set(self._pending)):
            if self._state != REDIS:
                break
            try:
                report = r.reconcile_study(name)
            except Exception as e:
                cause = outage_cause(e)
                if cause is None:
                    _logger.error("reconciling study %r failed: %r", name, e)
                    continue
                self._failover(cause, self._backend.take_attempt(), time.monotonic(), during="reconcile")
                break
            total += report.written
            if report.refused:
                _logger.error("study %r not reconciled: %s", name, report.refused)
                self._note_problem("study %r not reconciled: %s" % (name, report.refused))
            elif report.mismatches:
                _logger.error("study %r reconciled with differences: %s", name, "; ".join(report.mismatches[:5]))
                self._note_problem("study %r: %s" % (name, "; ".join(report.mismatches[:5])))
            elif report.running == 0:
                self._pending.discard(name)
        self._reconciled_total += total
        return total

    def _note_problem(self, text: str) -> None:
        self._problems = (self._problems + [text])[-10:]

    def _sweep_soon(self) -> None:
        self._sweep_requested = True
        if self._state == REDIS:
            self._start_prober()

    def sweep(self) -> int:
        """Reconciles pending studies now (the probe thread does this periodically)."""
        if self._state != REDIS or not self._pending:
            return 0
        return self._reconcile_pending()

    # --- dispatch -------------------------------------------------------------------------------
    def _try_redis(self, fn: Callable[[], Any]) -> Tuple[bool, Any, Optional[Attempt]]:
        t0 = time.monotonic()
        self._backend.clear_attempt()
        try:
            return True, fn(), None
        except Exception as e:
            cause = outage_cause(e)
            if cause is None:
                raise
            attempt = self._backend.take_attempt()
            self._failover(cause, attempt, t0)
            return False, None, attempt

    def _call(self, redis_fn: Callable[[], Any], outage_fn: Callable[[Optional[Attempt]], Any]) -> Any:
        """Runs ``redis_fn`` while on Redis; otherwise (or when it meets an outage) runs
        ``outage_fn`` under the storage lock, given the append that was in flight."""
        self._check_pid()
        self._calls += 1
        attempt: Optional[Attempt] = None
        try:
            while True:
                if self._state == REDIS:
                    ok, result, attempt = self._try_redis(redis_fn)
                    if ok:
                        return result
                with self._lock, self._backend.replay_only():
                    if self._state == REDIS:
                        continue
                    result = outage_fn(attempt)
                    self._served_after_failover()
                    return result
        except Exception as e:
            if isinstance(e, StorageUnavailableError):
                self._failed_calls += 1
            raise

    def _sqlite(self, fn: Callable[[Any], Any]) -> Any:
        fb = self._fallback.storage()
        if fb is None:
            raise self._unavailable("the SQLite fallback could not be opened: %s" % self._fallback.error)
        try:
            return fn(fb)
        except Exception as e:
            if _sqlite_infra_error(e):
                raise self._unavailable("the SQLite fallback failed: %s: %s" % (type(e).__name__, e)) from e
            raise

    def _unavailable(self, sqlite_problem: str) -> StorageUnavailableError:
        if self._state == REDIS:
            msg = "%s (%s)" % (sqlite_problem, self._settings.fallback_path)
        else:
            msg = "Redis is unavailable (%s) and %s (%s)" % (self._cause, sqlite_problem, self._settings.fallback_path)
        return StorageUnavailableError(msg)

    # --- studies: where a study lives ---------------------------------------------------------
    def _redis_sid(self, name: str) -> Optional[int]:
        """The Redis study id of ``name`` (synced while on Redis; the replay during an outage)."""
        try:
            return self._journal.get_study_id_from_name(name)
        except KeyError:
            return None

    def _sqlite_sid(self, name: str) -> Optional[int]:
        qsid = self._sqlite_ids.get(name)
        if qsid is not None:
            return qsid
        if not self._fallback.may_have_study(name) or self._fallback.storage() is None:
            return None
        try:
            qsid = self._sqlite(lambda f: f.get_study_id_from_name(name))
        except KeyError:
            return None
        self._sqlite_ids[name] = qsid
        return qsid

    def _study_name(self, study_id: int) -> str:
        if study_id >= SQLITE_ID_BASE:
            name = self._sqlite_names.get(study_id)
            if name is None:
                local = (study_id - SQLITE_ID_BASE) & ((1 << _STUDY_SLOT_BITS) - 1)
                name = self._sqlite(lambda f: f.get_study_name_from_id(local))
                if _name_hash(name) != (study_id - SQLITE_ID_BASE) >> _STUDY_SLOT_BITS:
                    raise KeyError(_NOT_FOUND)
                self._sqlite_names[study_id] = name
            return name
        return self._journal.get_study_name_from_id(study_id)

    def _ext_study(self, qsid: int, name: str) -> int:
        ext = _sqlite_study_ext(qsid, name)
        self._sqlite_names[ext] = name
        return ext

    def _ensure_copy(self, name: str, rsid: Optional[int]) -> int:
        """The SQLite copy of a Redis study (same name, directions, attributes)."""
        qsid = self._sqlite_sid(name)
        if rsid is None:
            if qsid is None:
                raise KeyError(_NOT_FOUND)
            return qsid
        if qsid is None:
            directions = self._journal.get_study_directions(rsid)
            try:
                qsid = self._sqlite(lambda f: f.create_new_study(directions, name))
            except DuplicatedStudyError:  # another process made it just now
                qsid = self._sqlite(lambda f: f.get_study_id_from_name(name))
        if name not in self._copies_synced:
            user = self._journal.get_study_user_attrs(rsid)
            system = self._journal.get_study_system_attrs(rsid)
            position = self._backend.position()

            def sync(f: Any) -> None:
                have_u = f.get_study_user_attrs(qsid)
                have_s = f.get_study_system_attrs(qsid)
                for k, v in user.items():
                    if k not in have_u or have_u[k] != v:
                        f.set_study_user_attr(qsid, k, v)
                for k, v in system.items():
                    if k not in have_s or have_s[k] != v:
                        f.set_study_system_attr(qsid, k, v)
                # Where the journal stood: a reconcile refuses a journal that lost it since.
                old = have_s.get(ORIGIN_KEY)
                if position is not None and (
                    not isinstance(old, dict)
                    or old.get("prefix") != position["prefix"]
                    or old.get("entries", 0) < position["entries"]
                ):
                    f.set_study_system_attr(qsid, ORIGIN_KEY, position)

            self._sqlite(sync)
            self._copies_synced.add(name)
        return qsid

    def _bring_to_redis(self, name: str) -> Optional[int]:
        """On Redis, a study found only in SQLite (born during an outage) is reconciled into
        Redis first, so that it continues there."""
        self._pending.add(name)
        self._reconcile_pending(names={name})
        return self._redis_sid(name) if self._state == REDIS else None

    # --- studies: BaseStorage -------------------------------------------------------------------
    def create_new_study(self, directions: Sequence[StudyDirection], study_name: Optional[str] = None) -> int:
        if study_name is not None and self._sqlite_sid(study_name) is not None:
            raise DuplicatedStudyError(
                "Another study with name '%s' already exists (in the SQLite fallback %s). Please "
                "specify a different name, or reuse the existing one by setting `load_if_exists`."
                % (study_name, self._settings.fallback_path)
            )

        def on_redis() -> int:
            return self._journal.create_new_study(directions, study_name)

        def outage(attempt: Optional[Attempt]) -> int:
            if study_name is not None and self._redis_sid(study_name) is not None:
                raise DuplicatedStudyError(
                    "Another study with name '%s' already exists. Please specify a different name, "
                    "or reuse the existing one by setting `load_if_exists`." % study_name
                )
            qsid = self._sqlite(lambda f: f.create_new_study(directions, study_name))
            name = study_name or self._sqlite(lambda f: f.get_study_name_from_id(qsid))
            self._pending.add(name)
            return self._ext_study(qsid, name)

        return self._call(on_redis, outage)

    def delete_study(self, study_id: int) -> None:
        self._check_pid()
        name = self._study_name(study_id)
        with self._lock:
            with self._backend.replay_only():
                rsid = self._redis_sid(name)
            if rsid is not None:
                if self._state != REDIS:
                    raise StorageUnavailableError(
                        "study %r was not deleted: it lives in Redis, which is unavailable (%s)" % (name, self._cause)
                    )
                ok, _, _ = self._try_redis(lambda: self._journal.delete_study(rsid))
                if not ok:
                    raise StorageUnavailableError(
                        "study %r may not have been deleted: Redis failed during the call (%s)" % (name, self._cause)
                    )
            qsid = self._sqlite_sid(name)
            if qsid is not None:
                self._sqlite(lambda f: f.delete_study(qsid))
            if rsid is None and qsid is None:
                raise KeyError(_NOT_FOUND)
            self._pending.discard(name)
            self._copies_synced.discard(name)
            self._sqlite_ids.pop(name, None)
            for ext in [k for k, v in self._sqlite_names.items() if v == name]:
                del self._sqlite_names[ext]

    def _set_study_attr(self, study_id: int, key: str, value: Any, user: bool) -> None:
        name = self._study_name(study_id)

        def apply_sqlite(f: Any, qsid: int) -> None:
            (f.set_study_user_attr if user else f.set_study_system_attr)(qsid, key, value)

        def journal_call(rsid: int) -> None:
            (self._journal.set_study_user_attr if user else self._journal.set_study_system_attr)(rsid, key, value)

        def on_redis() -> None:
            rsid = self._redis_sid(name)
            if rsid is None:
                rsid = self._bring_to_redis(name)
            if rsid is None:
                qsid = self._sqlite_sid(name)
                if qsid is None:
                    raise KeyError(_NOT_FOUND)
                return self._sqlite(lambda f: apply_sqlite(f, qsid))
            journal_call(rsid)

        def outage(attempt: Optional[Attempt]) -> None:
            rsid = self._redis_sid(name)
            qsid = self._ensure_copy(name, rsid)
            self._sqlite(lambda f: apply_sqlite(f, qsid))
            if rsid is not None:
                self._keep_records(lambda: journal_call(rsid), None, None, False, attempt)

        self._call(on_redis, outage)

    def set_study_user_attr(self, study_id: int, key: str, value: Any) -> None:
        self._set_study_attr(study_id, key, value, user=True)

    def set_study_system_attr(self, study_id: int, key: str, value: Any) -> None:
        self._set_study_attr(study_id, key, value, user=False)

    def get_study_id_from_name(self, study_name: str) -> int:
        def in_sqlite() -> int:
            qsid = self._sqlite_sid(study_name)
            if qsid is None:
                raise KeyError(_NOT_FOUND)
            return self._ext_study(qsid, study_name)

        def on_redis() -> int:
            rsid = self._redis_sid(study_name)
            if rsid is None and self._sqlite_sid(study_name) is not None:
                rsid = self._bring_to_redis(study_name)
            return rsid if rsid is not None else in_sqlite()

        def outage(attempt: Optional[Attempt]) -> int:
            rsid = self._redis_sid(study_name)
            return rsid if rsid is not None else in_sqlite()

        return self._call(on_redis, outage)

    def get_study_name_from_id(self, study_id: int) -> str:
        return self._call(lambda: self._study_name(study_id), lambda a: self._study_name(study_id))

    def _study_read(self, study_id: int, from_journal: Callable[[int], Any], from_sqlite: Callable[[Any, int], Any]) -> Any:
        def read() -> Any:
            if study_id < SQLITE_ID_BASE:
                name = self._journal.get_study_name_from_id(study_id)
                if self._state != REDIS and name in self._copies_synced:
                    qsid = self._sqlite_sid(name)
                    if qsid is not None:
                        return self._sqlite(lambda f: from_sqlite(f, qsid))
                return from_journal(study_id)
            name = self._study_name(study_id)
            rsid = self._redis_sid(name)
            if rsid is not None and not (self._state != REDIS and name in self._copies_synced):
                return from_journal(rsid)
            qsid = self._sqlite_sid(name)
            if qsid is None:
                raise KeyError(_NOT_FOUND)
            return self._sqlite(lambda f: from_sqlite(f, qsid))

        return self._call(read, lambda a: read())

    def get_study_directions(self, study_id: int) -> List[StudyDirection]:
        return self._study_read(study_id, self._journal.get_study_directions, lambda f, q: f.get_study_directions(q))

    def get_study_user_attrs(self, study_id: int) -> Dict[str, Any]:
        return self._study_read(study_id, self._journal.get_study_user_attrs, lambda f, q: f.get_study_user_attrs(q))

    def get_study_system_attrs(self, study_id: int) -> Dict[str, Any]:
        return self._study_read(
            study_id, self._journal.get_study_system_attrs, lambda f, q: _own_attrs(f.get_study_system_attrs(q))
        )

    def get_all_studies(self) -> List[FrozenStudy]:
        def read() -> List[FrozenStudy]:
            studies = self._journal.get_all_studies()
            names = {s.study_name for s in studies}
            if self._state != REDIS:
                for s in studies:
                    if s.study_name in self._copies_synced:
                        qsid = self._sqlite_sid(s.study_name)
                        if qsid is not None:
                            s.user_attrs = self._sqlite(lambda f: f.get_study_user_attrs(qsid))
                            s.system_attrs = _own_attrs(self._sqlite(lambda f: f.get_study_system_attrs(qsid)))
            if self._fallback.storage() is not None:
                for s in self._sqlite(lambda f: f.get_all_studies()):
                    if s.study_name in names:
                        continue
                    c = copy.copy(s)
                    c._study_id = self._ext_study(s._study_id, s.study_name)
                    c.system_attrs = _own_attrs(s.system_attrs)
                    studies.append(c)
            return studies

        return self._call(read, lambda a: read())

    # --- trials: views --------------------------------------------------------------------------
    def _public(self, t: FrozenTrial) -> FrozenTrial:
        """A journal trial without the unique id, cached by identity (JournalStorage replaces
        a trial object on every change)."""
        if UID_KEY not in t.system_attrs:
            return t
        hit = self._views.get(t._trial_id)
        if hit is not None and hit[0] is t:
            return hit[1]
        view = hide_uid(t)
        self._views[t._trial_id] = (t, view)
        return view

    def _sqlite_view(self, t: FrozenTrial, number: int, as_id: Optional[int] = None) -> FrozenTrial:
        v = copy.copy(t)
        v._trial_id = SQLITE_ID_BASE + t._trial_id if as_id is None else as_id
        v.number = number
        if UID_KEY in t.system_attrs:
            v.system_attrs = {k: x for k, x in t.system_attrs.items() if k != UID_KEY}
        return v

    def _redis_uids(self, rsid: int, trials: List[FrozenTrial]) -> Dict[str, int]:
        seen, index = self._uid_index.get(rsid, (0, {}))
        for t in trials[seen:]:
            uid = uid_of(t)
            if uid is not None:
                index[uid] = t._trial_id
        self._uid_index[rsid] = (len(trials), index)
        return index

    def _union(self, name: str, rsid: Optional[int], with_sqlite: bool) -> List[FrozenTrial]:
        """Trials of a study: Redis ones (a live SQLite twin shown over a Redis trial that is
        not finished there), then SQLite ones Redis does not have, numbered after them."""
        redis_trials = self._journal.get_all_trials(rsid, deepcopy=False) if rsid is not None else []
        qsid = self._sqlite_sid(name) if with_sqlite else None
        if qsid is None:
            return [self._public(t) for t in redis_trials]
        sqlite_trials = self._sqlite(lambda f: fresh_trials(f, qsid))
        uids = self._redis_uids(rsid, redis_trials) if rsid is not None else {}
        twins: Dict[int, FrozenTrial] = {}
        extra: List[FrozenTrial] = []
        for t in sqlite_trials:
            self._qtid_study[t._trial_id] = qsid
            uid = uid_of(t)
            rtid = uids.get(uid) if uid is not None else None
            if rtid is not None:
                twins[rtid] = t
            else:
                extra.append(t)
        out = []
        for t in redis_trials:
            twin = twins.get(t._trial_id)
            if twin is not None and not t.state.is_finished():
                out.append(self._sqlite_view(twin, t.number, as_id=t._trial_id))
            else:
                out.append(self._public(t))
        rc = len(redis_trials)
        out.extend(self._sqlite_view(t, rc + t.number) for t in extra)
        return out

    def _redis_count(self, name: str) -> int:
        rsid = self._redis_sid(name)
        if rsid is None:
            return 0
        return len(self._journal.get_all_trials(rsid, deepcopy=False))

    def _qtid_study_id(self, qtid: int) -> int:
        qsid = self._qtid_study.get(qtid)
        if qsid is None:
            from optuna.storages._rdb import models

            def find(f: Any) -> int:
                session = f._backend.scoped_session()  # the RDBStorage under Optuna's cache
                try:
                    return models.TrialModel.find_or_raise_by_id(qtid, session).study_id
                finally:
                    session.close()

            qsid = self._sqlite(find)
            self._qtid_study[qtid] = qsid
        return qsid

    def _sqlite_trial(self, trial_id: int) -> FrozenTrial:
        qtid = trial_id - SQLITE_ID_BASE
        t = self._sqlite(lambda f: f.get_trial(qtid))
        name = self._sqlite(lambda f: f.get_study_name_from_id(self._qtid_study_id(qtid)))
        return self._sqlite_view(t, self._redis_count(name) + t.number)

    # --- trials: BaseStorage --------------------------------------------------------------------
    def create_new_trial(self, study_id: int, template_trial: Optional[FrozenTrial] = None) -> int:
        if template_trial is None:
            template = FrozenTrial(
                number=-1,
                state=TrialState.RUNNING,
                value=None,
                values=None,
                datetime_start=datetime.datetime.now(),
                datetime_complete=None,
                params={},
                distributions={},
                user_attrs={},
                system_attrs={UID_KEY: new_uid()},
                intermediate_values={},
                trial_id=-1,
            )
        else:
            template = copy.copy(template_trial)
            template.system_attrs = dict(template_trial.system_attrs, **{UID_KEY: new_uid()})
        name_holder: List[str] = []

        def name() -> str:
            if not name_holder:
                name_holder.append(self._study_name(study_id))
            return name_holder[0]

        stamped: List[bool] = []

        def stamp() -> None:
            # A new trial starts when it is first written, not when the call came in: taken
            # after the storage is chosen, it is later than any time the caller read before
            # calling (Optuna's conformance test requires that strictly, to the microsecond).
            # Only once: a retry on SQLite of a write Redis may have applied keeps the same
            # time, or reconcile would find the two copies of the trial differing.
            if template_trial is None and not stamped:
                template.datetime_start = datetime.datetime.now()
                stamped.append(True)

        def in_sqlite(rsid: Optional[int]) -> int:
            qsid = self._ensure_copy(name(), rsid)
            stamp()
            qtid = self._sqlite(lambda f: f.create_new_trial(qsid, template_trial=template))
            self._qtid_study[qtid] = qsid
            self._pending.add(name())
            if not template.state.is_finished():
                self._sqlite_running.add(qtid)
            return SQLITE_ID_BASE + qtid

        def on_redis() -> int:
            rsid = study_id if study_id < SQLITE_ID_BASE else self._redis_sid(name())
            if rsid is None:
                rsid = self._bring_to_redis(name())
            if rsid is None:
                return in_sqlite(None)
            stamp()
            return self._journal.create_new_trial(rsid, template_trial=template)

        def outage(attempt: Optional[Attempt]) -> int:
            # A CREATE_TRIAL whose reply was lost may exist in Redis: the SQLite trial carries
            # the same unique id, so reconcile completes that one instead of adding another.
            return in_sqlite(self._redis_sid(name()))

        return self._call(on_redis, outage)

    def _keep_records(
        self,
        journal_call: Callable[[], Any],
        trial_id: Optional[int],
        uid: Optional[str],
        finishes: bool,
        attempt: Optional[Attempt],
        ended: Optional[datetime.datetime] = None,
    ) -> None:
        """Captures the record Optuna builds for a call made during the outage, for the outbox
        (unless the same call already reached Redis before the outage was noticed). A trial's
        end time is the one its SQLite shadow recorded, so both storages agree."""
        if attempt is not None and attempt.outcome == "applied":
            return
        with self._backend.capturing() as records:
            journal_call()
        for r in records:
            if ended is not None and "datetime_complete" in r:
                r["datetime_complete"] = journal_time(ended, r["datetime_complete"])
            # Not this process's worker id: replaying them later must never raise in this
            # process (Optuna raises only on its own records), whatever happened meanwhile.
            r["worker_id"] = "%s-outbox" % self._writer_id
        in_doubt = attempt.seq if attempt is not None and attempt.outcome == "unknown" else None
        self._outbox.append(_OutboxEntry(trial_id, uid, list(records), finishes, in_doubt))

    def _ensure_shadow(self, rtid: int, finished: Optional[Tuple[TrialState, Any, datetime.datetime]] = None) -> int:
        """The SQLite shadow of a Redis trial, created from the last replay (``finished``:
        created already finished, with the end time the journal record carries)."""
        qtid = self._shadows.get(rtid)
        if qtid is not None:
            return qtid
        t = self._journal.get_trial(rtid)
        if finished is not None:
            t = copy.copy(t)
            t.state, t.values, t.datetime_complete = finished[0], finished[1], finished[2]
        if uid_of(t) is None:
            raise StorageUnavailableError(
                "Redis is unavailable (%s) and trial #%d was not created through "
                "EnhancedRedisStorage (it has no unique id), so an update to it cannot be kept "
                "for Redis" % (self._cause, t.number)
            )
        rsid = self._journal._replay_result._trial_id_to_study_id[rtid]
        name = self._journal.get_study_name_from_id(rsid)
        qsid = self._ensure_copy(name, rsid)
        qtid = self._sqlite(lambda f: f.create_new_trial(qsid, template_trial=t))
        self._qtid_study[qtid] = qsid
        self._shadows[rtid] = qtid
        self._pending.add(name)
        return qtid

    def _trial_write(
        self,
        trial_id: int,
        journal_call: Callable[[], Any],
        sqlite_call: Callable[[Any, int], Any],
        finish: Optional[Tuple[TrialState, Any]] = None,
    ) -> Any:
        finishes = finish is not None
        if trial_id >= SQLITE_ID_BASE:
            self._check_pid()
            self._calls += 1
            qtid = trial_id - SQLITE_ID_BASE
            result = self._sqlite(lambda f: sqlite_call(f, qtid))
            if finishes and qtid in self._sqlite_running:
                self._sqlite_running.discard(qtid)
                self._sweep_soon()  # copied to Redis by the probe thread, off this call's path
            return result

        def on_redis() -> Any:
            if trial_id in self._mirror:
                return self._mirrored_write(trial_id, journal_call, sqlite_call, finishes)
            return journal_call()

        def outage(attempt: Optional[Attempt]) -> Any:
            ended = None
            if finish is not None and trial_id not in self._shadows:
                # The finish that met the outage may be in Redis (known, or a lost reply): the
                # shadow ends at the time that record carries, so both storages agree.
                ended = _record_time(attempt, "datetime_complete")
            if ended is not None:
                assert finish is not None
                self._ensure_shadow(trial_id, finished=(finish[0], finish[1], ended))
                result: Any = True
            else:
                qtid = self._ensure_shadow(trial_id)
                result = self._sqlite(lambda f: sqlite_call(f, qtid))
                if finishes:
                    ended = self._sqlite(lambda f: f.get_trial(qtid)).datetime_complete
            self._keep_records(journal_call, trial_id, self._trial_uid(trial_id), finishes, attempt, ended)
            return result

        return self._call(on_redis, outage)

    def _trial_uid(self, rtid: int) -> Optional[str]:
        with self._backend.replay_only():  # set at creation, never changed: no round trip
            return uid_of(self._journal.get_trial(rtid))

    def _mirrored_write(
        self, rtid: int, journal_call: Callable[[], Any], sqlite_call: Callable[[Any, int], Any], finishes: bool
    ) -> Any:
        """A Redis trial whose shadow from the outage is still RUNNING: the shadow follows it.
        Updates go to Redis first. The finish goes to the shadow first (SQLite stamps its end
        time), then to Redis with that time, behind the trial's marker (a reconciler that saw
        the finished shadow may have completed the trial already)."""
        qtid = self._shadows.get(rtid)
        if qtid is None:
            self._mirror.discard(rtid)
            return journal_call()
        uid = self._trial_uid(rtid)
        if not finishes:
            result = journal_call()
            try:
                self._sqlite(lambda f: sqlite_call(f, qtid))
            except Exception as e:
                _logger.warning("SQLite shadow of trial %d not updated (%s); it stays as it was", rtid, e)
                self._mirror.discard(rtid)
            return result
        result = self._sqlite(lambda f: sqlite_call(f, qtid))
        ended = self._sqlite(lambda f: f.get_trial(qtid)).datetime_complete
        with self._backend.capturing() as records:
            journal_call()
        for r in records:
            r["worker_id"] = "%s-outbox" % self._writer_id
            if ended is not None and "datetime_complete" in r:
                r["datetime_complete"] = journal_time(ended, r["datetime_complete"])
        marker = (trial_marker_key(self._settings.prefix, uid), "1") if uid else None
        self._mirror.discard(rtid)
        # The shadow has finished: whatever Redis does now, this call has succeeded, and the
        # record reaches Redis now or from the outbox at recovery.
        t0 = time.monotonic()
        self._backend.clear_attempt()
        try:
            self._backend.append_records([json.dumps(r) for r in records], marker)
            self._journal.get_trial(rtid)  # sync
        except Exception as e:
            cause = outage_cause(e)
            if cause is None:
                raise
            attempt = self._backend.take_attempt()
            self._failover(cause, attempt, t0)
            with self._lock:
                if attempt is None or attempt.outcome != "applied":
                    in_doubt = attempt.seq if attempt is not None and attempt.outcome == "unknown" else None
                    self._outbox.append(_OutboxEntry(rtid, uid, list(records), True, in_doubt))
        return result

    def set_trial_param(
        self, trial_id: int, param_name: str, param_value_internal: float, distribution: BaseDistribution
    ) -> None:
        self._trial_write(
            trial_id,
            lambda: self._journal.set_trial_param(trial_id, param_name, param_value_internal, distribution),
            lambda f, q: f.set_trial_param(q, param_name, param_value_internal, distribution),
        )

    def set_trial_state_values(
        self, trial_id: int, state: TrialState, values: Optional[Sequence[float]] = None
    ) -> bool:
        if state == TrialState.RUNNING and trial_id < SQLITE_ID_BASE and self._state != REDIS:
            # Popping an enqueued Redis trial needs Redis to know nobody else popped it.
            with self._lock:
                if self._state != REDIS:
                    return False
        return self._trial_write(
            trial_id,
            lambda: self._journal.set_trial_state_values(trial_id, state, values),
            lambda f, q: f.set_trial_state_values(q, state, values),
            finish=(state, list(values) if values is not None else None) if state.is_finished() else None,
        )

    def set_trial_intermediate_value(self, trial_id: int, step: int, intermediate_value: float) -> None:
        self._trial_write(
            trial_id,
            lambda: self._journal.set_trial_intermediate_value(trial_id, step, intermediate_value),
            lambda f, q: f.set_trial_intermediate_value(q, step, intermediate_value),
        )

    def set_trial_user_attr(self, trial_id: int, key: str, value: Any) -> None:
        self._trial_write(
            trial_id,
            lambda: self._journal.set_trial_user_attr(trial_id, key, value),
            lambda f, q: f.set_trial_user_attr(q, key, value),
        )

    def set_trial_system_attr(self, trial_id: int, key: str, value: Any) -> None:
        self._trial_write(
            trial_id,
            lambda: self._journal.set_trial_system_attr(trial_id, key, value),
            lambda f, q: f.set_trial_system_attr(q, key, value),
        )

    def get_trial(self, trial_id: int) -> FrozenTrial:
        if trial_id >= SQLITE_ID_BASE:
            return self._call(lambda: self._sqlite_trial(trial_id), lambda a: self._sqlite_trial(trial_id))

        def on_redis() -> FrozenTrial:
            return self._public(self._journal.get_trial(trial_id))

        def outage(attempt: Optional[Attempt]) -> FrozenTrial:
            t = self._journal.get_trial(trial_id)
            qtid = self._shadows.get(trial_id)
            if qtid is not None and not t.state.is_finished():
                return self._sqlite_view(self._sqlite(lambda f: f.get_trial(qtid)), t.number, as_id=trial_id)
            return self._public(t)

        return self._call(on_redis, outage)

    def get_all_trials(
        self, study_id: int, deepcopy: bool = True, states: Optional[Container[TrialState]] = None
    ) -> List[FrozenTrial]:
        def read() -> List[FrozenTrial]:
            if study_id < SQLITE_ID_BASE and self._state == REDIS and not self._pending:
                trials = [self._public(t) for t in self._journal.get_all_trials(study_id, deepcopy=False)]
            else:
                name = self._study_name(study_id)
                rsid = study_id if study_id < SQLITE_ID_BASE else self._redis_sid(name)
                with_sqlite = self._state != REDIS or name in self._pending or rsid is None
                trials = self._union(name, rsid, with_sqlite)
            if states is not None:
                trials = [t for t in trials if t.state in states]
            return copy.deepcopy(trials) if deepcopy else trials

        return self._call(read, lambda a: read())

    def get_trial_id_from_study_id_trial_number(self, study_id: int, trial_number: int) -> int:
        def read() -> int:
            if study_id < SQLITE_ID_BASE and self._state == REDIS and not self._pending:
                return self._journal.get_trial_id_from_study_id_trial_number(study_id, trial_number)
            name = self._study_name(study_id)
            rsid = study_id if study_id < SQLITE_ID_BASE else self._redis_sid(name)
            rc = len(self._journal.get_all_trials(rsid, deepcopy=False)) if rsid is not None else 0
            if trial_number < rc:
                assert rsid is not None
                return self._journal.get_trial_id_from_study_id_trial_number(rsid, trial_number)
            qsid = self._sqlite_sid(name)
            if qsid is None:
                raise KeyError("No trial with trial number %d exists in study %r." % (trial_number, name))
            qtid = self._sqlite(lambda f: f.get_trial_id_from_study_id_trial_number(qsid, trial_number - rc))
            return SQLITE_ID_BASE + qtid

        return self._call(read, lambda a: read())


def _record_time(attempt: Optional[Attempt], field: str) -> Optional[datetime.datetime]:
    """A time from the record an append carried (when it may have reached Redis), as the
    naive local time Optuna's replay turns it into."""
    if attempt is None or attempt.outcome == "not-applied" or not attempt.records:
        return None
    try:
        value = json.loads(attempt.records[-1]).get(field)
        t = datetime.datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None
    if t is not None and t.tzinfo is not None:
        t = t.astimezone().replace(tzinfo=None)
    return t


def _probe_loop(ref: "weakref.ReferenceType[EnhancedRedisStorage]") -> None:
    """Health probe while off Redis (and periodic reconcile sweeps while SQLite trials remain)."""
    pongs = 0
    last_sweep = time.monotonic()
    while True:
        s = ref()
        if s is None or s._closed:
            return
        interval = s._settings.probe_interval if s._state != REDIS else s._settings.sweep_interval
        wake = s._wake
        del s
        wake.wait(interval)
        wake.clear()
        s = ref()
        if s is None or s._closed:
            return
        if os.getpid() != s._pid:
            return
        if s._state == REDIS:
            if not s._pending:
                return  # nothing left to do; a new failover starts a new probe
            if s._sweep_requested or time.monotonic() - last_sweep >= s._settings.sweep_interval:
                s._sweep_requested = False
                last_sweep = time.monotonic()
                try:
                    s.sweep()
                except Exception as e:  # never let the probe thread die on a sweep
                    _logger.debug("sweep failed: %r", e)
            continue
        if s._probe_once():
            pongs += 1
            if pongs >= s._settings.recovery_pongs:
                pongs = 0
                try:
                    s._recover()
                except Exception as e:
                    _logger.error("recovery attempt failed: %r", e)
                last_sweep = time.monotonic()
        else:
            pongs = 0
        del s


# The name Optuna's own storages use for the op codes (kept importable for tests).
__all__ = ["EnhancedRedisStorage", "SQLITE_ID_BASE", "JournalOperation"]
