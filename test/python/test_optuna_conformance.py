"""Optuna's own BaseStorage conformance tests against EnhancedRedisStorage, with Redis up and
with Redis unreachable from the start (everything then lives in the SQLite fallback).

The tests are not copied here: this module loads ``tests/storages_tests/test_storages.py`` of
the Optuna release that is running (the 3.1.0 copy for 3.x, the 4.9.0 copy for 4.x and 5.x,
from the Optuna sources next to the repository) after pointing ``optuna.testing.storages`` at
two storage modes of ours, and re-exports the tests that run on those modes. Run it once per
release (scripts/test.sh does, with PYTHONPATH set to each source folder).
"""

import atexit
import importlib.util
import os
import shutil
import sqlite3
import tempfile
import uuid
import warnings

import optuna
import pytest

import helpers

# Names without "redis", "sqlite" or "journal": the 3.1 tests skip or branch on those words.
MODES = ["enhanced_up", "enhanced_down"]
TESTS_FOR_MAJOR = {"3": "tests-3.1.0", "4": "tests-4.9.0", "5": "tests-4.9.0"}

_major = optuna.__version__.split(".")[0]
_tests_path = os.path.join(
    helpers.SHARED_OPTUNA, TESTS_FOR_MAJOR.get(_major, "?"), "tests", "storages_tests", "test_storages.py"
)
if not os.path.exists(_tests_path):
    pytest.skip(
        "Optuna's storage conformance tests for %s are not at %s (only in the development checkout and CI)"
        % (optuna.__version__, _tests_path),
        allow_module_level=True,
    )
if shutil.which("redis-server") is None:
    pytest.skip("redis-server is not installed", allow_module_level=True)
try:
    import fakeredis  # noqa: F401  (optuna.testing.storages imports it)

    del fakeredis
except ImportError:
    pytest.skip("python3-fakeredis is not installed (optuna.testing needs it)", allow_module_level=True)

import optuna.testing.storages as optuna_testing  # noqa: E402

from enhanced_redis_storage import EnhancedRedisStorage  # noqa: E402

_state = {}


def _server() -> helpers.RedisServer:
    if "server" not in _state:
        _state["server"] = helpers.RedisServer(persistent=False)
        _state["dir"] = tempfile.mkdtemp(prefix="osm-py-conformance-")
        atexit.register(_cleanup)
    return _state["server"]


def _cleanup() -> None:
    if "server" in _state:
        _state["server"].dispose()
        shutil.rmtree(_state["dir"], ignore_errors=True)


def _template() -> str:
    """An SQLite fallback with Optuna's schema, made once and copied per test (creating the
    schema takes ~0.5 s)."""
    _server()
    path = os.path.join(_state["dir"], "template.db")
    if not os.path.exists(path):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            rdb = optuna.storages.RDBStorage("sqlite:///" + path)
            rdb.engine.dispose()
        con = sqlite3.connect(path)
        con.execute("PRAGMA journal_mode=WAL")
        con.close()
    return path


def _fresh_fallback() -> str:
    path = os.path.join(_state["dir"] if "dir" in _state else tempfile.gettempdir(), "fb-%s.db" % uuid.uuid4().hex)
    shutil.copyfile(_template(), path)
    return path


class EnhancedStorageSupplier(optuna_testing.StorageSupplier):
    """Optuna's supplier, plus: ``enhanced_up`` (a fresh journal prefix on a real
    redis-server) and ``enhanced_down`` (Redis refusing connections from the start)."""

    def __enter__(self):  # type: ignore[no-untyped-def]
        if self.storage_specifier not in MODES:
            return super().__enter__()
        self._fallback = _fresh_fallback()
        if self.storage_specifier == "enhanced_up":
            url = _server().url
        else:
            url = "redis://127.0.0.1:%d" % helpers.free_port()  # nothing listens there
        self._enhanced = EnhancedRedisStorage(url, self._fallback, prefix="conf-" + uuid.uuid4().hex[:12])
        expected = "redis" if self.storage_specifier == "enhanced_up" else "sqlite"
        assert self._enhanced.current_storage == expected, self._enhanced.get_storage_status()
        return self._enhanced

    def __exit__(self, *exc):  # type: ignore[no-untyped-def]
        enhanced = getattr(self, "_enhanced", None)
        if enhanced is None:
            return super().__exit__(*exc)
        enhanced.close()
        for suffix in ("", "-wal", "-shm"):
            try:
                os.unlink(self._fallback + suffix)
            except OSError:
                pass
        shutil.rmtree(self._fallback + ".writers", ignore_errors=True)
        return None


optuna_testing.STORAGE_MODES = list(MODES)
optuna_testing.StorageSupplier = EnhancedStorageSupplier

_spec = importlib.util.spec_from_file_location("optuna_storage_conformance", _tests_path)
_module = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_module)  # type: ignore[union-attr]


def _runs_on_our_modes(fn) -> bool:  # type: ignore[no-untyped-def]
    for mark in getattr(fn, "pytestmark", []):
        if mark.name == "parametrize" and mark.args and mark.args[0] == "storage_mode":
            return list(mark.args[1]) == MODES
    return False


for _name, _obj in vars(_module).items():
    if _name == "TestStorage" or _name == "storage":  # 4.x: a class of tests on a `storage` fixture
        globals()[_name] = _obj
    elif _name.startswith("test_") and callable(_obj) and _runs_on_our_modes(_obj):
        globals()[_name] = _obj
