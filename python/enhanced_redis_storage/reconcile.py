"""Heal a study an outage split: append the trials that finished in the SQLite fallback to the
Redis journal, once.

The one implementation, used three ways: by the storage when it returns to Redis, by
``python3 -m enhanced_redis_storage.reconcile`` (which the ``optuna-storage reconcile`` CLI and
the extension's Heal command run), and from code.

For each finished SQLite trial (matched by its unique id, or by fingerprint when it has none):
* Redis has it finished -> already there;
* Redis has it RUNNING (a process finished it in SQLite) -> the missing records are appended:
  params, intermediate values, attributes, and the final state with its real time;
* Redis lacks it -> one CREATE_TRIAL record carrying the finished trial (Optuna's own
  ``create_new_trial(template_trial=...)`` record, with its real start and end times).
Each of these is one Lua script that first sets a marker key for the trial with SET NX, so
concurrent reconcilers on several hosts, and a reconcile killed halfway and run again, write
each trial once. Trials still RUNNING in SQLite are left for a later pass. A study born in
SQLite is created in Redis first (same name, directions, attributes). The records are built
by Optuna's JournalStorage (captured, not sent) and carry a worker id of their own, so no
process replaying them mistakes them for its own writes.

Afterwards every finished SQLite trial is read back from Redis and compared (state, values,
params, both times).
"""

import copy
import datetime
import json
import uuid
from typing import Any
from typing import Callable
from typing import Dict
from typing import Iterable
from typing import List
from typing import Optional
from typing import Set
from typing import Tuple

from optuna.trial import FrozenTrial
from optuna.trial import TrialState

from ._compat import JournalStorage
from ._compat import journal_time
from .fallback import fresh_trials
from .identity import UID_KEY
from .identity import fingerprint
from .identity import fingerprint_key
from .identity import study_attr_marker_key
from .identity import study_marker_key
from .identity import trial_marker_key
from .identity import uid_of
from .journal_backend import MARKER_TAKEN
from .journal_backend import GuardedRedisJournal

BATCH = 200


class ReconcileRefused(Exception):
    """The study cannot be reconciled (damaged journal, conflicting directions)."""


class StudyReport:
    def __init__(self, name: str) -> None:
        self.name = name
        self.study_created = False
        self.copied = 0  # trials appended as a whole (CREATE_TRIAL)
        self.completed = 0  # Redis trials left RUNNING, finished from SQLite
        self.already = 0  # already in Redis (also: another reconciler got there first)
        self.running = 0  # still RUNNING in SQLite: left for a later pass
        self.attrs = 0  # study attributes appended
        self.refused: Optional[str] = None
        self.verified: Optional[bool] = None
        self.mismatches: List[str] = []
        self.to_copy: List[int] = []  # SQLite trial numbers (dry run, and what was written)

    @property
    def written(self) -> int:
        return self.copied + self.completed

    def as_dict(self) -> Dict[str, Any]:
        return {
            "study": self.name,
            "study_created": self.study_created,
            "copied": self.copied,
            "completed": self.completed,
            "already": self.already,
            "skipped_running": self.running,
            "study_attrs": self.attrs,
            "refused": self.refused,
            "verified": self.verified,
            "mismatches": self.mismatches,
        }


def _same_instant(a: Optional[datetime.datetime], b: Optional[datetime.datetime]) -> bool:
    if a is None or b is None:
        return a is b
    if a.tzinfo is None:
        a = a.astimezone()
    if b.tzinfo is None:
        b = b.astimezone()
    return a == b


def _differences(sqlite: FrozenTrial, redis: FrozenTrial) -> List[str]:
    out = []
    if sqlite.state != redis.state:
        out.append("state %s != %s" % (sqlite.state.name, redis.state.name))
    if sqlite.values != redis.values:
        out.append("values %r != %r" % (sqlite.values, redis.values))
    if sqlite.params != redis.params:
        out.append("params differ")
    if not _same_instant(sqlite.datetime_start, redis.datetime_start):
        out.append("datetime_start %s != %s" % (sqlite.datetime_start, redis.datetime_start))
    if not _same_instant(sqlite.datetime_complete, redis.datetime_complete):
        out.append("datetime_complete %s != %s" % (sqlite.datetime_complete, redis.datetime_complete))
    return out


class _RedisIndex:
    """Trials of one Redis study by unique id and by fingerprint (for trials without one)."""

    def __init__(self, trials: Iterable[FrozenTrial]) -> None:
        self.by_uid: Dict[str, FrozenTrial] = {}
        self.by_fp: Dict[str, List[FrozenTrial]] = {}
        for t in trials:
            uid = uid_of(t)
            if uid is not None:
                self.by_uid[uid] = t
            elif t.state.is_finished():
                self.by_fp.setdefault(fingerprint(t), []).append(t)
        self._fp_used: Set[int] = set()

    def twin(self, sqlite_trial: FrozenTrial) -> Optional[FrozenTrial]:
        uid = uid_of(sqlite_trial)
        if uid is not None:
            return self.by_uid.get(uid)
        t = self.by_uid.get(fingerprint_key(sqlite_trial))
        if t is not None:
            return t
        for cand in self.by_fp.get(fingerprint(sqlite_trial), []):
            if cand._trial_id not in self._fp_used:
                self._fp_used.add(cand._trial_id)
                return cand
        return None


class Reconciler:
    """Reconciles studies of one SQLite file (an RDBStorage, only read) into the Redis
    journal behind ``journal`` / ``backend`` (Optuna's JournalStorage over the guarded
    backend)."""

    def __init__(
        self,
        journal: JournalStorage,
        backend: GuardedRedisJournal,
        rdb: Any,
        batch: int = BATCH,
        on_progress: Optional[Callable[[str, int, int], None]] = None,
    ) -> None:
        self._journal = journal
        self._backend = backend
        self._rdb = rdb
        self._batch = batch
        self._worker_id = "%s-reconcile" % uuid.uuid4()
        self._on_progress = on_progress

    # --- records built by Optuna, captured instead of sent -------------------------------
    def _capture(self, call: Callable[[], Any], tolerate_assert: bool = False) -> List[Dict[str, Any]]:
        replay = self._journal._replay_result
        if not hasattr(replay, "_last_created_trial_id_by_this_process"):
            # JournalStorage.create_new_trial reads it after its own record was applied; in
            # capture mode nothing is applied.
            replay._last_created_trial_id_by_this_process = -1
        with self._backend.capturing() as records:
            try:
                call()
            except AssertionError:
                # create_new_study asserts that the study it just wrote is in its replay,
                # which a captured record never is.
                if not tolerate_assert or not records:
                    raise
        for r in records:
            r["worker_id"] = self._worker_id
        return list(records)

    def _sync(self) -> None:
        self._journal.get_all_studies()

    def _redis_study_id(self, name: str) -> Optional[int]:
        try:
            return self._journal.get_study_id_from_name(name)
        except KeyError:
            return None

    # --- public -----------------------------------------------------------------------------
    def sqlite_study_names(self) -> List[str]:
        return [s.study_name for s in self._rdb.get_all_studies()]

    def reconcile(self, names: Optional[List[str]] = None, dry_run: bool = False) -> List[StudyReport]:
        return [self.reconcile_study(n, dry_run=dry_run) for n in (names or self.sqlite_study_names())]

    def reconcile_study(self, name: str, dry_run: bool = False) -> StudyReport:
        report = StudyReport(name)
        try:
            self._reconcile_study(report, name, dry_run)
        except ReconcileRefused as e:
            report.refused = str(e)
        return report

    def _reconcile_study(self, report: StudyReport, name: str, dry_run: bool) -> None:
        self._sync()
        try:
            qsid = self._rdb.get_study_id_from_name(name)
        except KeyError:
            raise ReconcileRefused("no study %r in the SQLite file" % name)
        directions = list(self._rdb.get_study_directions(qsid))
        rsid = self._redis_study_id(name)
        if rsid is not None and list(self._journal.get_study_directions(rsid)) != directions:
            raise ReconcileRefused(
                "study %r has directions %s in Redis but %s in SQLite"
                % (name, [d.name for d in self._journal.get_study_directions(rsid)], [d.name for d in directions])
            )
        sqlite_trials = fresh_trials(self._rdb, qsid, deepcopy=True)
        if rsid is None:
            report.study_created = True
            if not dry_run:
                rsid = self._create_study(name, directions)
        if rsid is not None:
            report.attrs = self._copy_study_attrs(name, qsid, rsid, dry_run)
        index = _RedisIndex(self._journal.get_all_trials(rsid, deepcopy=False) if rsid is not None else [])
        plan: List[Tuple[FrozenTrial, Optional[FrozenTrial]]] = []
        for t in sqlite_trials:
            if not _finished(t):
                report.running += 1
                continue
            twin = index.twin(t)
            if twin is not None and twin.state.is_finished():
                report.already += 1
                continue
            plan.append((t, twin))
            report.to_copy.append(t.number)
        if dry_run:
            for t, twin in plan:
                if twin is None:
                    report.copied += 1
                else:
                    report.completed += 1
            return
        assert rsid is not None
        done = 0
        for lo in range(0, len(plan), self._batch):
            chunk = plan[lo : lo + self._batch]
            items = [self._records_for(rsid, t, twin) for t, twin in chunk]
            replies = self._backend.append_batch([(recs, marker) for recs, marker in items])
            for (t, twin), (status, _) in zip(chunk, replies):
                if status == MARKER_TAKEN:
                    report.already += 1
                elif twin is None:
                    report.copied += 1
                else:
                    report.completed += 1
            done += len(chunk)
            if self._on_progress:
                self._on_progress(name, done, len(plan))
        self._verify(report, rsid, sqlite_trials)

    def _create_study(self, name: str, directions: List[Any]) -> int:
        records = self._capture(lambda: self._journal.create_new_study(directions, name), tolerate_assert=True)
        marker = (study_marker_key(self._backend.prefix, name), "1")
        self._backend.append_batch([([json.dumps(r) for r in records], marker)])
        self._sync()
        rsid = self._redis_study_id(name)
        if rsid is None:
            raise ReconcileRefused(
                "study %r could not be created in Redis (its marker exists but the study does not: deleted?)" % name
            )
        return rsid

    def _copy_study_attrs(self, name: str, qsid: int, rsid: int, dry_run: bool) -> int:
        """Study attributes the SQLite study has and the Redis one lacks (never overwrites a
        value Redis already holds: it may be newer)."""
        items = []
        for kind, sqlite_attrs, redis_attrs, setter in (
            ("u", self._rdb.get_study_user_attrs(qsid), self._journal.get_study_user_attrs(rsid), self._journal.set_study_user_attr),
            ("s", self._rdb.get_study_system_attrs(qsid), self._journal.get_study_system_attrs(rsid), self._journal.set_study_system_attr),
        ):
            for key, value in sqlite_attrs.items():
                if key in redis_attrs:
                    continue
                if dry_run:
                    items.append(None)
                    continue
                records = self._capture(lambda s=setter, k=key, v=value: s(rsid, k, v))
                marker = (study_attr_marker_key(self._backend.prefix, name, kind, key), "1")
                items.append(([json.dumps(r) for r in records], marker))
        if dry_run or not items:
            return len(items)
        replies = self._backend.append_batch(items)
        return sum(1 for status, _ in replies if status != MARKER_TAKEN)

    def _records_for(
        self, rsid: int, t: FrozenTrial, twin: Optional[FrozenTrial]
    ) -> Tuple[List[str], Tuple[str, str]]:
        key = uid_of(t) or fingerprint_key(t)
        marker = (trial_marker_key(self._backend.prefix, key), json.dumps({"sqlite_trial_number": t.number}))
        if twin is None:
            template = t
            if uid_of(t) is None:
                template = _with_uid(t, key)
            records = self._capture(lambda: self._journal.create_new_trial(rsid, template_trial=template))
        else:
            records = self._completion_records(t, twin)
        return [json.dumps(r) for r in records], marker

    def _completion_records(self, t: FrozenTrial, twin: FrozenTrial) -> List[Dict[str, Any]]:
        """The records that turn the RUNNING Redis ``twin`` into the finished SQLite ``t``."""
        j = self._journal
        rtid = twin._trial_id
        out: List[Dict[str, Any]] = []
        if twin.state == TrialState.WAITING and t.datetime_start is not None:
            # An enqueued trial popped in SQLite: it starts before it ends, as in Optuna.
            start = self._capture(lambda: j.set_trial_state_values(rtid, TrialState.RUNNING))
            for r in start:
                if "datetime_start" in r:
                    r["datetime_start"] = journal_time(t.datetime_start, r["datetime_start"])
            out += start
        for pname, value in t.params.items():
            if pname in twin.params:
                continue
            dist = t.distributions[pname]
            out += self._capture(lambda n=pname, v=value, d=dist: j.set_trial_param(rtid, n, d.to_internal_repr(v), d))
        for step, value in t.intermediate_values.items():
            if twin.intermediate_values.get(step) != value:
                out += self._capture(lambda s=step, v=value: j.set_trial_intermediate_value(rtid, s, v))
        for key, value in t.user_attrs.items():
            if key not in twin.user_attrs or twin.user_attrs[key] != value:
                out += self._capture(lambda k=key, v=value: j.set_trial_user_attr(rtid, k, v))
        for key, value in t.system_attrs.items():
            if key != UID_KEY and (key not in twin.system_attrs or twin.system_attrs[key] != value):
                out += self._capture(lambda k=key, v=value: j.set_trial_system_attr(rtid, k, v))
        final = self._capture(lambda: j.set_trial_state_values(rtid, t.state, t.values))
        for r in final:
            if t.datetime_complete is not None and "datetime_complete" in r:
                r["datetime_complete"] = journal_time(t.datetime_complete, r["datetime_complete"])
        return out + final

    def _verify(self, report: StudyReport, rsid: int, sqlite_trials: List[FrozenTrial]) -> None:
        self._sync()
        index = _RedisIndex(self._journal.get_all_trials(rsid, deepcopy=False))
        for t in sqlite_trials:
            if not _finished(t):
                continue
            twin = index.twin(t)
            if twin is None:
                report.mismatches.append("SQLite trial #%d is not in Redis" % t.number)
                continue
            diff = _differences(t, twin)
            if diff:
                report.mismatches.append("SQLite trial #%d vs Redis trial #%d: %s" % (t.number, twin.number, "; ".join(diff)))
        report.verified = not report.mismatches


def _finished(t: FrozenTrial) -> bool:
    # A finished trial always has its end time; without it, it is still being written.
    return t.state.is_finished() and t.datetime_complete is not None


def _with_uid(t: FrozenTrial, key: str) -> FrozenTrial:
    c = copy.copy(t)
    c.system_attrs = dict(t.system_attrs, **{UID_KEY: key})
    return c
