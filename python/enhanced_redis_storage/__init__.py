"""Optuna storage on a Redis journal that keeps optimizers writing through a Redis outage.

The guide's API::

    from enhanced_redis_storage import create_enhanced_study

    study = create_enhanced_study("my_study", direction="minimize")
    study.optimize(objective, n_trials=100)

The storage comes from the environment the extension passes to runs
(``OPTUNA_STORAGE_REDIS_URL``, ``..._PREFIX``, ``OPTUNA_STORAGE_SQLITE_PATH``,
``..._PASSWORD``, ``..._SENTINELS``, ``..._SENTINEL_MASTER``), else ``redis_config.json``, else
``redis://127.0.0.1:6379`` with the fallback ``./optuna_fallback.db``.
"""

import os
import threading
from typing import Any
from typing import Dict
from typing import Optional
from typing import Sequence

import optuna

from .errors import StorageUnavailableError
from .storage import EnhancedRedisStorage

__all__ = [
    "EnhancedRedisStorage",
    "StorageUnavailableError",
    "create_enhanced_study",
    "get_enhanced_storage",
    "get_storage_status",
    "load_enhanced_study",
]

__version__ = "0.1.0"

_storage: Optional[EnhancedRedisStorage] = None
_storage_pid: Optional[int] = None
_lock = threading.Lock()


def get_enhanced_storage(**options: Any) -> EnhancedRedisStorage:
    """The process's storage (one per process, shared by its threads), created on first use
    from the environment / ``redis_config.json`` / defaults, plus ``options``."""
    global _storage, _storage_pid
    with _lock:
        if _storage is None or _storage_pid != os.getpid():
            _storage = EnhancedRedisStorage(**options)
            _storage_pid = os.getpid()
        return _storage


def create_enhanced_study(
    study_name: str,
    direction: Optional[str] = None,
    directions: Optional[Sequence[str]] = None,
    sampler: Optional["optuna.samplers.BaseSampler"] = None,
    pruner: Optional["optuna.pruners.BasePruner"] = None,
    load_if_exists: bool = True,
) -> "optuna.Study":
    return optuna.create_study(
        storage=get_enhanced_storage(),
        sampler=sampler,
        pruner=pruner,
        study_name=study_name,
        direction=direction,
        directions=directions,
        load_if_exists=load_if_exists,
    )


def load_enhanced_study(
    study_name: str,
    sampler: Optional["optuna.samplers.BaseSampler"] = None,
    pruner: Optional["optuna.pruners.BasePruner"] = None,
) -> "optuna.Study":
    return optuna.load_study(study_name=study_name, storage=get_enhanced_storage(), sampler=sampler, pruner=pruner)


def get_storage_status() -> Dict[str, Any]:
    """Which storage this process writes to, since when and why (see the README)."""
    return get_enhanced_storage().get_storage_status()
