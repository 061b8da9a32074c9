"""Redis clients of one storage: short timeouts, no client-side retries, one pool per process.

redis-py retries nothing in 4.x but retries three times by default from 6.1 (ten in 8.1); a
retried append after a lost reply would write the record twice, and a retry on a frozen server
multiplies the wait. So every connection gets an explicit zero-retry policy; the storage decides
what may be sent again (reads, and appends carrying their writer sequence).
"""

from typing import Any
from typing import Dict
from typing import Optional

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from .config import Settings


def _no_retry() -> Retry:
    return Retry(NoBackoff(), 0)


def _connection_kwargs(settings: Settings, timeout: float) -> Dict[str, Any]:
    kw: Dict[str, Any] = {
        "socket_timeout": timeout,
        "socket_connect_timeout": settings.connect_timeout,
        "socket_keepalive": True,
        "retry_on_timeout": False,
        "retry": _no_retry(),
        "health_check_interval": settings.health_check_interval,
    }
    if settings.password:
        kw["password"] = settings.password
    return kw


def _disable_client_retry(client: "redis.Redis") -> "redis.Redis":
    # redis-py >= 6 also keeps a retry policy on the client object itself.
    if hasattr(client, "set_retry"):
        try:
            client.set_retry(_no_retry())
        except Exception:  # an older signature; the connections' policy still applies
            pass
    return client


class Clients:
    """``journal`` for journal commands (short timeout, blocking pool), ``bulk`` for the
    snapshot key (long timeout), ``probe`` for health probes (its own connection, so a busy
    pool never delays the probe)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._sentinel: Optional[Any] = None
        self.journal = self._make(settings.command_timeout, settings.max_connections)
        self.bulk = self._make(settings.snapshot_timeout, 2)
        self.probe = self._make(settings.command_timeout, 1)

    def _make(self, timeout: float, size: int) -> "redis.Redis":
        s = self.settings
        kw = _connection_kwargs(s, timeout)
        if s.sentinels:
            from redis.sentinel import Sentinel

            if self._sentinel is None:
                sentinel_kwargs: Dict[str, Any] = {
                    "socket_timeout": s.command_timeout,
                    "socket_connect_timeout": s.connect_timeout,
                }
                self._sentinel = Sentinel(s.sentinels, sentinel_kwargs=sentinel_kwargs)
            return _disable_client_retry(self._sentinel.master_for(s.sentinel_master, **kw))
        pool = redis.BlockingConnectionPool.from_url(
            s.redis_url, max_connections=size, timeout=max(timeout, s.connect_timeout), **kw
        )
        return _disable_client_retry(redis.Redis(connection_pool=pool))

    def close(self) -> None:
        for c in (self.journal, self.bulk, self.probe):
            try:
                c.connection_pool.disconnect()
            except Exception:
                pass
