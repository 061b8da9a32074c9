"""Optuna's own journal classes, found where each release keeps them.

Optuna 3.1-3.6 keeps the Redis journal in ``optuna.storages._journal`` (``JournalRedisStorage``);
4.0 moved it to ``optuna.storages.journal`` and renamed it ``JournalRedisBackend`` (the old name
is deprecated). The records and keys are the same in every release, so everything else in this
package is version-free.
"""

import datetime
import warnings
from typing import Any
from typing import Callable
from typing import TypeVar

import optuna

try:  # Optuna >= 4.0
    from optuna.storages.journal import JournalRedisBackend as OptunaRedisJournal
    from optuna.storages.journal import JournalStorage
    from optuna.storages.journal._base import BaseJournalSnapshot
    from optuna.storages.journal._storage import JournalOperation
except ImportError:  # Optuna 3.x
    from optuna.storages import JournalStorage  # type: ignore[no-redef]
    from optuna.storages._journal.base import (  # type: ignore[no-redef]
        BaseJournalLogSnapshot as BaseJournalSnapshot,
    )
    from optuna.storages._journal.redis import (  # type: ignore[no-redef]
        JournalRedisStorage as OptunaRedisJournal,
    )
    from optuna.storages._journal.storage import JournalOperation  # type: ignore[no-redef]

__all__ = [
    "BaseJournalSnapshot",
    "JournalOperation",
    "JournalStorage",
    "OptunaRedisJournal",
    "OPTUNA_VERSION",
    "quietly",
    "journal_time",
]

OPTUNA_VERSION = optuna.__version__

T = TypeVar("T")


def quietly(make: Callable[[], T]) -> T:
    """Builds an Optuna object without its ExperimentalWarning / FutureWarning: the journal
    classes are experimental in 3.x and the user did not construct them."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return make()


def journal_time(value: datetime.datetime, like: Any) -> str:
    """``value`` written the way this Optuna release writes journal times, judged from a time
    string the same release just wrote (``like``): naive local time up to 4.x, aware UTC
    (``+00:00``) from 5.0. FrozenTrial times are naive local times in every release."""
    aware = isinstance(like, str) and (like.endswith("+00:00") or like.endswith("Z"))
    if aware:
        if value.tzinfo is None:
            value = value.astimezone()
        value = value.astimezone(datetime.timezone.utc)
    elif value.tzinfo is not None:
        value = value.astimezone().replace(tzinfo=None)
    return value.isoformat(timespec="microseconds")
