"""Where a process using the storage says which storage it writes to, for the extension (and
anyone) to read:

- without Redis: one small JSON file per process in ``<fallback file>.writers/`` (written to a
  temporary file and renamed, so a reader never sees half of it), removed when the process
  closes the storage or exits;
- in Redis while the process writes there: the same JSON under :func:`status_key`, with a TTL
  of a few heartbeats, so that a process that died without closing vanishes by itself.

Both are rewritten every ``status_interval`` seconds (the heartbeat: ``updated`` moves on, and
a reader on another host can tell a live file from one a crashed process left), and at once on
every change of state. The extension's reader is src/core/python/writersStatus.ts; the key's
name is also in src/core/optuna/journal/redisLog.ts (WRITER_STATUS_PATTERN)."""

import atexit
import json
import os
import socket
import tempfile
import threading
import time
import weakref
from typing import Any
from typing import Optional

STATUS_SCHEMA = 1
# The key outlives a few missed heartbeats (a loaded machine), not a dead process for long.
KEY_TTL_HEARTBEATS = 3
MIN_KEY_TTL_SECONDS = 15


def status_dir(fallback_path: str) -> str:
    return fallback_path + ".writers"


def status_key(prefix: str, writer_id: str) -> str:
    """The process's status in Redis: beside the journal's other keys of this package
    (``<prefix>:enhanced:...``), so that it travels and goes with the journal's prefix."""
    return "%s:enhanced:status:%s" % (prefix, writer_id)


class StatusPublisher:
    def __init__(self, storage: Any) -> None:
        self._storage = storage
        s = storage._settings
        self.path: Optional[str] = s.status_file or os.path.join(
            status_dir(s.fallback_path),
            "%s-%d-%s.json" % (socket.gethostname(), os.getpid(), storage._writer_id[:8]),
        )
        self.key = status_key(s.prefix, storage._writer_id)
        self._interval = s.status_interval
        self._lock = threading.Lock()
        self._registered = False
        self._closed = False
        self._key_written = False
        self._wake = threading.Event()
        self._beat: Optional[threading.Thread] = None

    def _document(self) -> str:
        st = self._storage
        status = st.get_storage_status()
        status.update(
            {
                "schema": STATUS_SCHEMA,
                "updated": time.time(),
                "heartbeat": self._interval,
                "writer_id": st._writer_id,
                "run_id": st._settings.run_id,
            }
        )
        return json.dumps(status)

    def publish(self) -> None:
        """Writes the file now; the Redis key follows from the heartbeat thread (a storage call
        never waits for it)."""
        if not self.path:
            return
        self._write_file(self._document())
        self._start_heartbeat()
        self._wake.set()

    def _write_file(self, text: str) -> None:
        with self._lock:
            if self._closed:
                return
            directory = os.path.dirname(self.path)
            tmp = None
            try:
                os.makedirs(directory, exist_ok=True)
                fd, tmp = tempfile.mkstemp(prefix=".status-", dir=directory)
                with os.fdopen(fd, "w") as f:
                    f.write(text)
                os.replace(tmp, self.path)
            except OSError:
                if tmp is not None:
                    try:
                        os.unlink(tmp)
                    except OSError:
                        pass
                return  # a status file is a courtesy: never fail a storage call for it
            if not self._registered:
                atexit.register(self.remove)
                self._registered = True
                _remove_dead_files(directory)

    def _start_heartbeat(self) -> None:
        if self._beat is not None and self._beat.is_alive():
            return
        with self._lock:
            if self._closed or (self._beat is not None and self._beat.is_alive()):
                return
            self._beat = threading.Thread(
                target=_heartbeat_loop,
                args=(weakref.ref(self), self._wake, self._interval),
                name="enhanced-storage-status",
                daemon=True,
            )
            self._beat.start()

    def beat(self) -> None:
        """One heartbeat: the file again (``updated`` moves on), and the key while the process
        writes to Redis. Never while held: then nothing is written to that Redis."""
        st = self._storage
        if self._closed or os.getpid() != st._pid:
            return
        text = self._document()
        self._write_file(text)
        if st.current_storage != "redis":
            return
        ttl = max(MIN_KEY_TTL_SECONDS, int(KEY_TTL_HEARTBEATS * self._interval + 0.999))
        try:
            st._clients.probe.set(self.key, text, ex=ttl)
            self._key_written = True
            if self._closed:  # closed meanwhile: do not leave the key for its TTL
                st._clients.probe.delete(self.key)
        except Exception:
            pass  # the next heartbeat tries again; a failing call fails over on its own

    def remove(self) -> None:
        """Removes the file and the key for good (the storage is closed or the process exits)."""
        if not self.path:
            return
        with self._lock:
            self._closed = True
            try:
                os.unlink(self.path)
            except OSError:
                pass
        self._wake.set()
        st = self._storage
        if self._key_written and st.current_storage == "redis" and os.getpid() == st._pid:
            try:
                st._clients.probe.delete(self.key)
            except Exception:
                pass  # its TTL removes it


def _remove_dead_files(directory: str) -> None:
    """Removes the files that processes of this host killed with SIGKILL left behind (readers
    skip them anyway; this keeps the folder from growing run after run)."""
    prefix = socket.gethostname() + "-"
    try:
        names = os.listdir(directory)
    except OSError:
        return
    for name in names:
        if not (name.startswith(prefix) and name.endswith(".json")):
            continue
        pid = name[len(prefix) :].split("-", 1)[0]
        if not pid.isdigit() or _alive(int(pid)):
            continue
        try:
            os.unlink(os.path.join(directory, name))
        except OSError:
            pass


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # EPERM: someone else's live process
        return True
    return True


def _heartbeat_loop(ref: "weakref.ReferenceType[StatusPublisher]", wake: threading.Event, interval: float) -> None:
    while True:
        p = ref()
        if p is None or p._closed:
            return
        try:
            p.beat()
        except Exception:  # never let the heartbeat die: the next one tries again
            pass
        del p
        wake.wait(interval)
        wake.clear()
