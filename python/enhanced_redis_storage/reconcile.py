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
import os
import sys
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
from .identity import ORIGIN_KEY
from .identity import PACKAGE_ATTR_PREFIX
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
        self.refused_trials = 0  # finished SQLite trials not copied because the study was refused
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
            "refused_trials": self.refused_trials,
            "to_copy": self.to_copy,
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
            report.refused_trials = self._finished_in_sqlite(name)
            report.copied = report.completed = report.already = 0
            report.to_copy = []
        return report

    def _finished_in_sqlite(self, name: str) -> int:
        try:
            qsid = self._rdb.get_study_id_from_name(name)
        except KeyError:
            return 0
        return sum(1 for t in fresh_trials(self._rdb, qsid) if _finished(t))

    def journal_departure(self) -> Optional[str]:
        """Why the Redis journal is not the one the SQLite file's copies were made from
        (emptied or rolled back since), judged from the furthest position any process
        recorded in the file for this prefix; None when it still holds it."""
        furthest: Optional[Dict[str, Any]] = None
        for st in self._rdb.get_all_studies():
            pos = self._rdb.get_study_system_attrs(st._study_id).get(ORIGIN_KEY)
            if isinstance(pos, dict) and pos.get("prefix") == self._backend.prefix:
                if furthest is None or pos.get("entries", 0) > furthest.get("entries", 0):
                    furthest = pos
        return None if furthest is None else self._backend.departed_from(furthest)

    def _reconcile_study(self, report: StudyReport, name: str, dry_run: bool) -> None:
        departed = self.journal_departure()
        if departed is not None:
            raise ReconcileRefused("the Redis journal is not the one this SQLite file was written beside: %s" % departed)
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
                if key in redis_attrs or key.startswith(PACKAGE_ATTR_PREFIX):
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


# --- command line: python3 -m enhanced_redis_storage reconcile ... ----------------------------
# What the `optuna-storage reconcile` CLI and the extension's Heal command run. Exit statuses:
# 0 healed / nothing to do / dry run, 1 refused or not verified, 2 bad input, 3 Redis unreachable.
EXIT_OK, EXIT_REFUSED, EXIT_BAD_INPUT, EXIT_UNREACHABLE = 0, 1, 2, 3
TOTAL_KEYS = ("copied", "completed", "already", "skipped_running", "refused_trials", "study_attrs")


def _open_sqlite_read_only(path: str) -> Any:
    """Optuna's RDBStorage on the file, opened read-only (SQLite refuses any write)."""
    import sqlite3

    from optuna.storages import RDBStorage

    from ._compat import quietly

    if not os.path.isfile(path):
        raise ValueError("%s: no such file" % path)
    try:
        con = sqlite3.connect("file:%s?mode=ro" % path, uri=True)
        try:
            tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        finally:
            con.close()
    except sqlite3.Error as e:
        raise ValueError("%s is not an SQLite database (%s)" % (path, e))
    if not {"studies", "trials", "version_info"} <= tables:
        raise ValueError("%s is not an Optuna storage (no studies/trials tables)" % path)
    url = "sqlite:///file:%s?mode=ro&uri=true" % path
    return quietly(lambda: RDBStorage(url, skip_compatibility_check=True, skip_table_creation=True))


def _text_report(reports: List[StudyReport], dry_run: bool) -> List[str]:
    lines = []
    for r in reports:
        head = "study %s" % json.dumps(r.name)
        if r.refused:
            lines.append("%s: REFUSED, nothing written (%d finished SQLite trials): %s" % (head, r.refused_trials, r.refused))
            continue
        verb = "would copy" if dry_run else "copied"
        parts = [
            "%s %d" % (verb, r.copied),
            "%s %d left RUNNING in Redis" % ("would complete" if dry_run else "completed", r.completed),
            "already there %d" % r.already,
            "skipped (still running) %d" % r.running,
        ]
        if r.study_created:
            parts.append("study %s in Redis" % ("to be created" if dry_run else "created"))
        if not dry_run:
            parts.append("verified" if r.verified else "NOT VERIFIED")
        lines.append("%s: %s" % (head, ", ".join(parts)))
        if dry_run and r.to_copy:
            shown = ", ".join("#%d" % n for n in r.to_copy[:50])
            more = " and %d more" % (len(r.to_copy) - 50) if len(r.to_copy) > 50 else ""
            lines.append("  SQLite trials to copy: %s%s" % (shown, more))
        for m in r.mismatches[:20]:
            lines.append("  mismatch: %s" % m)
    return lines


def main(argv: Optional[List[str]] = None) -> int:
    import argparse

    from . import config as _config
    from ._client import Clients
    from ._compat import quietly
    from .errors import outage_cause

    ap = argparse.ArgumentParser(
        prog="python3 -m enhanced_redis_storage reconcile",
        description="Copy the trials an outage left in the SQLite fallback into the Redis journal, each once.",
    )
    ap.add_argument("--redis", required=True, help="redis://[user@]host[:port][/db]; password in $%s" % _config.ENV_PASSWORD)
    ap.add_argument("--prefix", default="")
    ap.add_argument("--sqlite", required=True)
    ap.add_argument("--study", action="append", help="only this study (repeatable)")
    ap.add_argument("--dry-run", action="store_true")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--progress", action="store_true", help='stderr lines: progress "<study>" done/total')
    ap.add_argument("--sentinels", default=None)
    ap.add_argument("--sentinel-master", default=None)
    ap.add_argument("--command-timeout", type=float, default=30.0)
    args = ap.parse_args(argv)

    def fail(code: int, text: str) -> int:
        sys.stderr.write("reconcile: %s\n" % text)
        return code

    options: Dict[str, Any] = {"command_timeout": args.command_timeout, "status_file": ""}
    if args.sentinels:
        options["sentinels"] = args.sentinels
        options["sentinel_master"] = args.sentinel_master
    try:
        settings = _config.resolve(args.redis, args.sqlite, args.prefix, options, config_file=False)
        rdb = _open_sqlite_read_only(os.path.abspath(args.sqlite))
    except ValueError as e:
        return fail(EXIT_BAD_INPUT, str(e))
    names = args.study or None
    if names:
        have = {s.study_name for s in rdb.get_all_studies()}
        missing = [n for n in names if n not in have]
        if missing:
            return fail(EXIT_BAD_INPUT, "no study %s in %s" % (", ".join(json.dumps(n) for n in missing), args.sqlite))

    def progress(study: str, done: int, total: int) -> None:
        sys.stderr.write("progress %s %d/%d\n" % (json.dumps(study), done, total))
        sys.stderr.flush()

    clients = Clients(settings)
    try:
        backend = GuardedRedisJournal(clients, settings.prefix, uuid.uuid4().hex)
        journal = quietly(lambda: JournalStorage(backend))  # reads the whole journal (a gap refuses)
        backend.verify_intact()
        r = Reconciler(journal, backend, rdb, on_progress=progress if args.progress else None)
        reports = r.reconcile(names, dry_run=args.dry_run)
    except Exception as e:
        cause = outage_cause(e)
        if cause is None:
            raise
        if cause.startswith(("journal entry missing", "journal damaged")):
            return fail(EXIT_REFUSED, "refused, nothing written: the Redis journal %s" % cause)
        return fail(EXIT_UNREACHABLE, "Redis %s is unavailable: %s" % (_config.redact_url(settings.redis_url), cause))
    finally:
        clients.close()
        rdb.engine.dispose()

    totals = {k: sum(x.as_dict()[k] for x in reports) for k in TOTAL_KEYS}
    totals["refused"] = sum(1 for x in reports if x.refused)
    totals["studies"] = len(reports)
    totals["studies_created"] = sum(1 for x in reports if x.study_created)
    unverified = [x for x in reports if not args.dry_run and not x.refused and x.verified is False]
    if args.json:
        out = {"dry_run": args.dry_run, "studies": [x.as_dict() for x in reports], "totals": totals}
        sys.stdout.write(json.dumps(out) + "\n")
    else:
        lines = _text_report(reports, args.dry_run)
        lines.append(
            "total: %s %d, completed %d, already there %d, skipped (still running) %d, refused %d (%d studies)"
            % (
                "would copy" if args.dry_run else "copied",
                totals["copied"],
                totals["completed"],
                totals["already"],
                totals["skipped_running"],
                totals["refused_trials"],
                totals["refused"],
            )
        )
        if not reports:
            lines.insert(0, "no studies in %s" % args.sqlite)
        sys.stdout.write("\n".join(lines) + "\n")
    return EXIT_REFUSED if totals["refused"] or unverified else EXIT_OK
