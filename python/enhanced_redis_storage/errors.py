"""Which errors mean "Redis cannot take this call now" (fail over to SQLite) and which must
reach the caller unchanged."""

from typing import Optional

import optuna
import redis.exceptions as rex


class StorageUnavailableError(optuna.exceptions.StorageInternalError):
    """Neither Redis nor the SQLite fallback could take the call; names both causes."""


class JournalDamagedError(rex.RedisError):
    """The Redis journal lost entries or was rolled back: never written to."""


class JournalGapError(JournalDamagedError):
    """An entry below the journal's counter is missing (evicted, deleted, lost in a restart)."""


class RedisOffline(rex.ConnectionError):
    """The storage is not talking to Redis at the moment (raised without a round trip)."""


# Server replies that mean the server cannot take writes (or reads) for now. redis-py maps
# some of them to classes, but a reply from inside a script arrives as a plain ResponseError.
_OUTAGE_REPLIES = (
    ("OOM ", "full memory (OOM under maxmemory)"),
    ("OOM command not allowed", "full memory (OOM under maxmemory)"),
    ("READONLY", "read-only replica"),
    ("MISCONF", "persistence failure (MISCONF)"),
    ("MASTERDOWN", "replica lost its master (MASTERDOWN)"),
    ("LOADING", "loading its data set (LOADING)"),
    ("NOREPLICAS", "not enough replicas (NOREPLICAS)"),
    ("BUSY ", "busy running a script (BUSY)"),
    ("CLUSTERDOWN", "cluster down"),
    ("TRYAGAIN", "cluster resharding (TRYAGAIN)"),
)


def outage_cause(e: BaseException) -> Optional[str]:
    """A short cause when ``e`` means Redis is unavailable for journal writes; None for
    errors that are the caller's (or a bug) and must surface."""
    if isinstance(e, JournalGapError):
        return "journal entry missing: %s" % e
    if isinstance(e, JournalDamagedError):
        return "journal damaged: %s" % e
    if isinstance(e, RedisOffline):
        return str(e) or "offline"
    if isinstance(e, rex.TimeoutError):
        return "timeout (server frozen, paused or overloaded)"
    if isinstance(e, rex.AuthenticationError):
        return "authentication failed: %s" % e
    if isinstance(e, rex.BusyLoadingError):
        return "loading its data set (LOADING)"
    if isinstance(e, rex.ReadOnlyError):
        return "read-only replica"
    if isinstance(e, rex.ConnectionError):
        return "connection error: %s" % (str(e).splitlines()[0] if str(e) else type(e).__name__)
    if isinstance(e, (ConnectionError, TimeoutError)):  # OSError subclasses from the socket
        return "connection error: %s" % e
    if isinstance(e, rex.ResponseError):
        msg = str(e)
        if "JOURNAL_REFUSED" in msg:
            return "journal damaged: %s" % msg.split("JOURNAL_REFUSED", 1)[1].strip()
        for marker, cause in _OUTAGE_REPLIES:
            if msg.startswith(marker) or (" " + marker) in msg or (marker in msg and "script" in msg):
                return cause
    return None


def is_damage(cause: Optional[str]) -> bool:
    return bool(cause) and cause.startswith(("journal entry missing", "journal damaged"))
