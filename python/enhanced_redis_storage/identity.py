"""How a trial is recognised across the two storages, and the keys that make copying it
happen once.

Trial ids and numbers differ between Redis and SQLite (and change when a trial is copied), so
every trial created through the storage carries a unique id in its system attributes, written
atomically with its creation (inside Optuna's CREATE_TRIAL record / RDB insert). The storage
hides it from what it returns, so Optuna and the user see exactly the attributes they set;
plain Optuna reading the same storage sees it as one more system attribute.

Trials written without it (plain Optuna, optuna.copy_study) are matched by a fingerprint:
state, both times, values and params -- the same fields the extension's merged view uses.
"""

import copy
import datetime
import hashlib
import json
import uuid
from typing import Any
from typing import Optional

from optuna.trial import FrozenTrial

UID_KEY = "enhanced_redis_storage:uid"
# A system attribute of an SQLite copy of a Redis study: where the Redis journal stood when
# the copy was made (prefix, entries read, a digest of the last one), so that a reconcile --
# in any process, at any later time -- can tell a journal that was emptied or rolled back
# since. Package attributes (this prefix) are never copied into Redis.
ORIGIN_KEY = "enhanced_redis_storage:redis_journal"
PACKAGE_ATTR_PREFIX = "enhanced_redis_storage:"


def new_uid() -> str:
    return uuid.uuid4().hex


def uid_of(trial: FrozenTrial) -> Optional[str]:
    v = trial.system_attrs.get(UID_KEY)
    return v if isinstance(v, str) else None


def hide_uid(trial: FrozenTrial) -> FrozenTrial:
    """The trial as the user created it: a shallow copy without the unique id (the trial
    itself when it has none). Optuna never mutates a FrozenTrial in place, so sharing the
    other fields is safe."""
    if UID_KEY not in trial.system_attrs:
        return trial
    view = copy.copy(trial)
    view.system_attrs = {k: v for k, v in trial.system_attrs.items() if k != UID_KEY}
    return view


def _instant(t: Optional[datetime.datetime]) -> Optional[str]:
    if t is None:
        return None
    if t.tzinfo is None:
        t = t.astimezone()
    return t.astimezone(datetime.timezone.utc).isoformat(timespec="microseconds")


def fingerprint(trial: FrozenTrial) -> str:
    """State, times (as instants), values and params of a trial, as one string."""
    params: Any = sorted((k, repr(v)) for k, v in trial.params.items())
    return json.dumps(
        [
            int(trial.state),
            _instant(trial.datetime_start),
            _instant(trial.datetime_complete),
            [repr(v) for v in trial.values] if trial.values is not None else None,
            params,
        ]
    )


def fingerprint_key(trial: FrozenTrial) -> str:
    """The id given to a copy of a trial that had none: derived from its fingerprint, so
    every reconciler derives the same one."""
    return "fp-" + hashlib.sha1(fingerprint(trial).encode()).hexdigest()


def entry_digest(raw: bytes) -> str:
    return hashlib.sha1(raw).hexdigest()


def _h(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:24]


# Marker keys live under "<prefix>:enhanced:" and never end in ":log_number" (readers find
# journals by that suffix).
def trial_marker_key(prefix: str, trial_key: str) -> str:
    return "%s:enhanced:trial:%s" % (prefix, trial_key)


def study_marker_key(prefix: str, study_name: str) -> str:
    return "%s:enhanced:study:%s" % (prefix, _h(study_name))


def study_attr_marker_key(prefix: str, study_name: str, kind: str, attr: str) -> str:
    return "%s:enhanced:study-attr:%s:%s:%s" % (prefix, _h(study_name), kind, _h(attr))
