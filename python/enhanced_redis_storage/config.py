"""Where the storage's settings come from, and what each one means here.

Order (later wins): built-in defaults, ``redis_config.json`` (the guide's file: path in
``OPTUNA_STORAGE_REDIS_CONFIG``, else ``./redis_config.json``), the environment the extension
passes to runs (``OPTUNA_STORAGE_REDIS_*``, ``OPTUNA_STORAGE_SQLITE_PATH``), then the arguments
given in code. The password never leaves this module except inside the connection pool; every
description of the settings uses :func:`redact_url`.
"""

import json
import os
from typing import Any
from typing import Dict
from typing import List
from typing import Optional
from typing import Tuple
from urllib.parse import quote
from urllib.parse import urlsplit
from urllib.parse import urlunsplit

ENV_URL = "OPTUNA_STORAGE_REDIS_URL"
ENV_PREFIX = "OPTUNA_STORAGE_REDIS_PREFIX"
ENV_SQLITE = "OPTUNA_STORAGE_SQLITE_PATH"
ENV_PASSWORD = "OPTUNA_STORAGE_REDIS_PASSWORD"
ENV_SENTINELS = "OPTUNA_STORAGE_REDIS_SENTINELS"
ENV_SENTINEL_MASTER = "OPTUNA_STORAGE_REDIS_SENTINEL_MASTER"
ENV_CONFIG = "OPTUNA_STORAGE_REDIS_CONFIG"
# Set by the extension for each run it launches: the run's processes name it in their status
# files, so that the Runs view can tell each run's storage state.
ENV_RUN_ID = "OPTUNA_STORAGE_RUN_ID"

DEFAULT_URL = "redis://127.0.0.1:6379"
DEFAULT_FALLBACK = "./optuna_fallback.db"
DEFAULT_CONFIG_FILE = "redis_config.json"

# A journal command that has not answered after this long is treated as an outage: a frozen
# server would otherwise hold every call for the whole socket timeout (30 s in the guide).
MAX_COMMAND_TIMEOUT = 1.0
MAX_CONNECT_TIMEOUT = 1.0
# The snapshot key holds the whole pickled replay (megabytes for a big study): it alone keeps
# the long timeout.
MIN_SNAPSHOT_TIMEOUT = 30.0


class Settings:
    """The resolved settings of one storage (immutable after construction, picklable)."""

    def __init__(self, values: Dict[str, Any]) -> None:
        self.redis_url: str = values["redis_url"]
        self.password: Optional[str] = values.get("password")
        self.prefix: str = values["prefix"]
        self.fallback_path: str = os.path.abspath(os.path.expanduser(values["fallback_path"]))
        self.sentinels: List[Tuple[str, int]] = values.get("sentinels") or []
        self.sentinel_master: Optional[str] = values.get("sentinel_master")
        guide_socket = float(values["socket_timeout"])
        guide_connect = float(values["connect_timeout"])
        self.socket_timeout = guide_socket
        self.command_timeout = float(
            values.get("command_timeout") or min(guide_socket, MAX_COMMAND_TIMEOUT)
        )
        self.connect_timeout = float(
            values.get("command_connect_timeout") or min(guide_connect, MAX_CONNECT_TIMEOUT)
        )
        self.snapshot_timeout = max(guide_socket, MIN_SNAPSHOT_TIMEOUT)
        self.health_check_interval = float(values["health_check_interval"])
        self.max_connections = int(values["max_connections"])
        self.retry_on_timeout = bool(values["retry_on_timeout"])
        self.probe_interval = float(values["probe_interval"])
        self.recovery_pongs = int(values["recovery_pongs"])
        self.sqlite_timeout = float(values["sqlite_timeout"])
        self.sweep_interval = float(values["sweep_interval"])
        self.status_file: Optional[str] = values.get("status_file")
        self.status_interval = float(values["status_interval"])
        self.run_id: Optional[str] = values.get("run_id")
        self.config_file: Optional[str] = values.get("config_file")

    def describe(self) -> Dict[str, Any]:
        return {
            "redis_url": redact_url(self.redis_url),
            "sentinels": ["%s:%d" % s for s in self.sentinels],
            "sentinel_master": self.sentinel_master,
            "prefix": self.prefix,
            "fallback_path": self.fallback_path,
            "command_timeout": self.command_timeout,
            "connect_timeout": self.connect_timeout,
            "snapshot_timeout": self.snapshot_timeout,
            "socket_timeout": self.socket_timeout,
            "health_check_interval": self.health_check_interval,
            "max_connections": self.max_connections,
            "retry_on_timeout": self.retry_on_timeout,
            "probe_interval": self.probe_interval,
            "recovery_pongs": self.recovery_pongs,
            "config_file": self.config_file,
        }


DEFAULTS: Dict[str, Any] = {
    "redis_url": DEFAULT_URL,
    "prefix": "",
    "fallback_path": DEFAULT_FALLBACK,
    "socket_timeout": MAX_COMMAND_TIMEOUT,
    "connect_timeout": MAX_CONNECT_TIMEOUT,
    "health_check_interval": 0,
    "max_connections": 16,
    "retry_on_timeout": False,
    "probe_interval": 0.2,
    "recovery_pongs": 3,
    "sqlite_timeout": 60.0,
    "sweep_interval": 5.0,
    "status_interval": 5.0,
}

# Keys accepted in redis_config.json and as keyword options (the guide's names first).
_OPTION_KEYS = {
    "socket_timeout",
    "connect_timeout",
    "socket_connect_timeout",
    "health_check_interval",
    "max_connections",
    "retry_on_timeout",
    "command_timeout",
    "command_connect_timeout",
    "probe_interval",
    "recovery_pongs",
    "sqlite_timeout",
    "sweep_interval",
    "status_file",
    "status_interval",
    "password",
    "sentinels",
    "sentinel_master",
}


class ConfigError(ValueError):
    """A setting that cannot be used, with what to change."""


def redact_url(url: str) -> str:
    """The URL with any password replaced by ``***`` (user names are kept)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparsable URL>"
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if ":" in host:
        host = "[%s]" % host
    netloc = "%s***@%s" % ((quote(parts.username) + ":") if parts.username else ":", host)
    if parts.port:
        netloc += ":%d" % parts.port
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def parse_sentinels(text: str) -> List[Tuple[str, int]]:
    """``"host:port,host:port"`` (also space separated; IPv6 as ``[addr]:port``)."""
    out = []
    for item in text.replace(" ", ",").split(","):
        item = item.strip()
        if not item:
            continue
        host, sep, port = item.rpartition(":")
        if not sep or not port.isdigit():
            raise ConfigError("sentinel %r is not host:port" % item)
        out.append((host.strip("[]"), int(port)))
    return out


def _from_json(path: str) -> Dict[str, Any]:
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as e:
        raise ConfigError("cannot read %s: %s" % (path, e)) from e
    if not isinstance(data, dict):
        raise ConfigError("%s must hold a JSON object" % path)
    out: Dict[str, Any] = {"config_file": os.path.abspath(path)}
    if data.get("url") or data.get("redis_url"):
        out["redis_url"] = data.get("url") or data.get("redis_url")
    elif data.get("host") or data.get("port"):
        host = str(data.get("host") or "127.0.0.1")
        if ":" in host and not host.startswith("["):
            host = "[%s]" % host
        out["redis_url"] = "redis://%s:%d/%d" % (host, int(data.get("port") or 6379), int(data.get("db") or 0))
    for k in ("prefix",):
        if k in data and data[k] is not None:
            out[k] = str(data[k])
    for k in ("fallback_path", "sqlite_path", "fallback_db"):
        if data.get(k):
            out["fallback_path"] = str(data[k])
    for k in _OPTION_KEYS:
        if k in data and data[k] is not None:
            out[k] = data[k]
    return out


def _from_env(env: Dict[str, str]) -> Dict[str, Any]:
    out: Dict[str, Any] = {}
    if env.get(ENV_URL):
        out["redis_url"] = env[ENV_URL]
    if ENV_PREFIX in env:
        out["prefix"] = env[ENV_PREFIX]
    if env.get(ENV_SQLITE):
        out["fallback_path"] = env[ENV_SQLITE]
    if env.get(ENV_PASSWORD):
        out["password"] = env[ENV_PASSWORD]
    if env.get(ENV_SENTINELS):
        out["sentinels"] = env[ENV_SENTINELS]
    if env.get(ENV_SENTINEL_MASTER):
        out["sentinel_master"] = env[ENV_SENTINEL_MASTER]
    if env.get(ENV_RUN_ID):
        out["run_id"] = env[ENV_RUN_ID]
    return out


def resolve(
    redis_url: Optional[str] = None,
    fallback_path: Optional[str] = None,
    prefix: Optional[str] = None,
    options: Optional[Dict[str, Any]] = None,
    env: Optional[Dict[str, str]] = None,
    config_file: bool = True,
) -> Settings:
    """The settings of a storage from code arguments, the environment, the guide's JSON file
    (unless ``config_file`` is False) and the defaults."""
    env = dict(os.environ if env is None else env)
    options = dict(options or {})
    unknown = set(options) - _OPTION_KEYS
    if unknown:
        raise ConfigError(
            "unknown option(s) %s; known: %s" % (", ".join(sorted(unknown)), ", ".join(sorted(_OPTION_KEYS)))
        )
    values: Dict[str, Any] = dict(DEFAULTS)
    if config_file:
        values.update(_from_json(env.get(ENV_CONFIG) or DEFAULT_CONFIG_FILE))
    values.update(_from_env(env))
    if redis_url is not None:
        values["redis_url"] = redis_url
    if fallback_path is not None:
        values["fallback_path"] = fallback_path
    if prefix is not None:
        values["prefix"] = prefix
    values.update(options)
    if "socket_connect_timeout" in values:
        values["connect_timeout"] = values.pop("socket_connect_timeout")
    if isinstance(values.get("sentinels"), str):
        values["sentinels"] = parse_sentinels(values["sentinels"])
    elif values.get("sentinels"):
        values["sentinels"] = [(str(h), int(p)) for h, p in values["sentinels"]]
    if values.get("sentinels") and not values.get("sentinel_master"):
        raise ConfigError("sentinels are set but no master name (%s)" % ENV_SENTINEL_MASTER)
    url = str(values["redis_url"])
    if not url.startswith(("redis://", "rediss://", "unix://")):
        raise ConfigError("Redis URL must start with redis://, rediss:// or unix://: %s" % redact_url(url))
    for k in ("socket_timeout", "connect_timeout", "probe_interval", "sqlite_timeout", "status_interval"):
        if float(values[k]) <= 0:
            raise ConfigError("%s must be positive" % k)
    if int(values["max_connections"]) < 2:
        raise ConfigError("max_connections must be at least 2 (journal calls and the health probe)")
    return Settings(values)
