"""The SQLite fallback file: Optuna's own RDBStorage, prepared before any outage.

Thirty processes failing over at once onto one SQLite file need WAL (readers do not block the
writer), a long busy timeout, and the schema created beforehand: creating it takes ~0.4-1 s
and races between processes. Commits use ``synchronous=NORMAL`` (see ``_fast_commits``). The file is
opened in a background thread when the storage starts, under an exclusive ``flock`` on the database file itself (independent of SQLite's
own POSIX locks), so only one process creates the schema and the others wait for it.
"""

import logging
import os
import sqlite3
import threading
from typing import Any
from typing import Optional

import sqlalchemy

from ._compat import quietly

try:
    import fcntl
except ImportError:  # not POSIX: no cross-process schema lock, SQLite's own locking remains
    fcntl = None  # type: ignore[assignment]


_logger = logging.getLogger("optuna.storages.enhanced_redis")


def _fast_commits(dbapi_connection: Any, _record: Any) -> None:
    # In WAL mode, NORMAL syncs at checkpoints instead of every commit (5 ms here, seconds
    # when 30 processes queue for the write lock): a commit still survives a crash of the
    # process; a power cut may lose the last moments, as Redis' appendfsync everysec would.
    cur = dbapi_connection.cursor()
    try:
        cur.execute("PRAGMA synchronous=NORMAL")
    finally:
        cur.close()


class Fallback:
    def __init__(self, path: str, busy_timeout: float, on_ready: Optional[Any] = None) -> None:
        self.path = path
        self._on_ready = on_ready
        self.url = "sqlite:///" + path
        self._busy_timeout = busy_timeout
        self._storage = None
        self.error: Optional[str] = None
        self._ready = threading.Event()
        self._thread: Optional[threading.Thread] = None

    def start(self) -> None:
        """Opens the file in the background (the caller goes on talking to Redis)."""
        self._thread = threading.Thread(target=self._open, name="enhanced-storage-sqlite-open", daemon=True)
        self._thread.start()

    def _open(self) -> None:
        try:
            self._storage = self._make()
            self.error = None
        except Exception as e:
            self.error = "%s: %s" % (type(e).__name__, str(e).splitlines()[0] if str(e) else "")
            _logger.warning(
                "the SQLite fallback %s cannot be used (%s): if Redis fails, this process cannot go on",
                self.path,
                self.error,
            )
        finally:
            self._ready.set()
        if self._on_ready is not None:
            try:
                self._on_ready()
            except Exception:
                pass

    def _make(self):  # type: ignore[no-untyped-def]
        from optuna.storages import RDBStorage
        from optuna.storages import _CachedStorage

        def rdb(checked: bool = False):  # type: ignore[no-untyped-def]
            # ``checked``: the file is at this release's schema already, so Optuna's own check
            # (alembic loading every migration script: seconds on a busy machine) is skipped.
            storage = quietly(
                lambda: RDBStorage(
                    self.url,
                    engine_kwargs={"connect_args": {"timeout": self._busy_timeout}},
                    skip_compatibility_check=checked,
                    skip_table_creation=checked,
                )
            )
            sqlalchemy.event.listen(storage.engine, "connect", _fast_commits)
            # Optuna's own cache for RDB (what optuna.create_study gives a sqlite:/// URL):
            # finished trials are read once, not on every sampler call.
            return _CachedStorage(storage)

        if self._prepared():
            return rdb(checked=True)  # the common case: many processes open a ready file at once
        directory = os.path.dirname(self.path) or "."
        os.makedirs(directory, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            if fcntl is not None:
                fcntl.flock(fd, fcntl.LOCK_EX)
            if not self._prepared():  # else another process prepared it while we waited
                con = sqlite3.connect(self.path, timeout=self._busy_timeout)
                try:
                    # Persistent in the file: every later connection uses WAL too.
                    con.execute("PRAGMA journal_mode=WAL")
                finally:
                    con.close()
                rdb().remove_session()  # creates and stamps the schema
        finally:
            os.close(fd)  # also releases the flock
        return rdb()

    def _prepared(self) -> bool:
        """The file exists in WAL mode with Optuna's schema stamped (nothing to create)."""
        if not os.path.exists(self.path):
            return False
        try:
            con = sqlite3.connect("file:%s?mode=ro" % self.path, uri=True, timeout=self._busy_timeout)
        except sqlite3.Error:
            return False
        try:
            mode = con.execute("PRAGMA journal_mode").fetchone()[0]
            tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
            if mode != "wal" or not {"alembic_version", "version_info"} <= tables:
                return False
            revisions = [r[0] for r in con.execute("SELECT version_num FROM alembic_version")]
            schema = [r[0] for r in con.execute("SELECT schema_version FROM version_info")]
            return revisions == [_schema_head()] and schema == [_schema_version()]
        except sqlite3.Error:
            return False
        finally:
            con.close()

    def storage(self, wait: float = 120.0):  # type: ignore[no-untyped-def]
        """The (cached) RDBStorage, or None (``error`` says why)."""
        if self._thread is None:
            self._open()
        elif not self._ready.wait(wait):
            self.error = "the SQLite fallback %s is still opening after %.0f s" % (self.path, wait)
            return None
        return self._storage

    def may_have_study(self, name: str) -> bool:
        """False only when the file certainly holds no study of that name; answered without
        waiting for the RDBStorage, which may still be opening (so that a process starting
        on a healthy Redis never waits for SQLite)."""
        if self._ready.is_set() or not os.path.exists(self.path):
            return self._ready.is_set()
        try:
            con = sqlite3.connect("file:%s?mode=ro" % self.path, uri=True, timeout=1.0)
        except sqlite3.Error:
            return True
        try:
            return con.execute("SELECT 1 FROM studies WHERE study_name = ?", (name,)).fetchone() is not None
        except sqlite3.Error as e:
            return "no such table" not in str(e)
        finally:
            con.close()

    @property
    def opened(self) -> bool:
        return self._storage is not None

    def dispose(self) -> None:
        if self._storage is not None:
            try:
                self._storage._backend.engine.dispose()
            except Exception:
                pass


def _schema_version() -> int:
    from optuna.storages._rdb import models

    return int(models.SCHEMA_VERSION)


def _schema_head() -> Optional[str]:
    """The alembic head revision of the running Optuna's RDB schema, read from its migration
    scripts' ``revision``/``down_revision`` lines (importing them is what makes Optuna's own
    check slow)."""
    import re

    from optuna.storages import _rdb

    versions = os.path.join(os.path.dirname(_rdb.__file__), "alembic", "versions")
    revisions, downs = set(), set()
    try:
        names = os.listdir(versions)
    except OSError:
        return None
    for name in names:
        if not name.endswith(".py"):
            continue
        with open(os.path.join(versions, name), encoding="utf-8") as f:
            text = f.read()
        rev = re.search(r"""^revision\s*=\s*["']([^"']+)["']""", text, re.M)
        down = re.search(r"""^down_revision\s*=\s*["']([^"']+)["']""", text, re.M)
        if rev:
            revisions.add(rev.group(1))
        if down:
            downs.add(down.group(1))
    heads = revisions - downs
    return heads.pop() if len(heads) == 1 else None


def fresh_trials(storage: Any, study_id: int, deepcopy: bool = False) -> Any:
    """All trials of a study, including other processes' latest writes: Optuna 3.1's cache
    refreshes only when asked (its Study asks before reading), later releases on every read;
    a plain RDBStorage always reads. ``deepcopy``: a consistent copy (3.1's cache updates a
    trial's state and end time in two steps, under its lock, on the objects it hands out)."""
    refresh = getattr(storage, "read_trials_from_remote_storage", None)
    if refresh is not None:
        refresh(study_id)
    return storage.get_all_trials(study_id, deepcopy=deepcopy)
