"""Where a process using the storage says which storage it writes to, for the extension (and
anyone) to read without Redis: one small JSON file per process in ``<fallback file>.writers/``
(written to a temporary file and renamed, so a reader never sees half of it), removed when
the process closes the storage or exits."""

import atexit
import json
import os
import socket
import tempfile
import threading
import time
from typing import Any
from typing import Optional

STATUS_SCHEMA = 1


def status_dir(fallback_path: str) -> str:
    return fallback_path + ".writers"


class StatusPublisher:
    def __init__(self, storage: Any) -> None:
        self._storage = storage
        s = storage._settings
        self.path: Optional[str] = s.status_file or os.path.join(
            status_dir(s.fallback_path),
            "%s-%d-%s.json" % (socket.gethostname(), os.getpid(), storage._writer_id[:8]),
        )
        self._lock = threading.Lock()
        self._registered = False
        self._closed = False

    def publish(self) -> None:
        if not self.path:
            return
        status = self._storage.get_storage_status()
        status.update({"schema": STATUS_SCHEMA, "updated": time.time(), "writer_id": self._storage._writer_id})
        with self._lock:
            if self._closed:
                return
            directory = os.path.dirname(self.path)
            tmp = None
            try:
                os.makedirs(directory, exist_ok=True)
                fd, tmp = tempfile.mkstemp(prefix=".status-", dir=directory)
                with os.fdopen(fd, "w") as f:
                    json.dump(status, f)
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

    def remove(self) -> None:
        """Removes the file for good (the storage is closed or the process exits)."""
        if not self.path:
            return
        with self._lock:
            self._closed = True
            try:
                os.unlink(self.path)
            except OSError:
                pass
