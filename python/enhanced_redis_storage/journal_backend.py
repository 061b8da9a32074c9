"""Optuna's Redis journal backend, hardened: the same keys and records, read and written with
short timeouts, gap and rollback detection, and appends that can be sent again safely.

Optuna's ``JournalStorage`` builds every record and replays the journal; this class only moves
records between it and Redis. What it changes, and why:

* **Appends carry a writer sequence.** One Lua script per append checks
  ``<prefix>:enhanced:writer:<id>`` (the last sequence this writer applied) before it appends,
  so sending the same sequence again after a lost reply appends nothing, and a copy that the
  server executes late (a frozen server resuming, a paused client released) is a no-op once
  the sequence was fenced at recovery. redis-py never retries on its own (see ``_client``).
* **Refuse to write into a journal that lost data** (mirrors the extension's rule): the
  counter ``<prefix>:log_number`` missing while entries exist, fewer entries than this
  process already read, or a missing entry just below the counter. Optuna's own append
  would restart the counter at 0 and overwrite.
* **A missing entry is an error**, not a wait: Optuna's reader sleeps forever on a gap.
* **Reads are batched** (MGET) and check that the last entry read before is unchanged, so a
  journal rolled back and refilled is noticed.
* **The snapshot** is read with the long timeout, ignored when this Optuna release cannot
  unpickle it (3.x and 4.x snapshots are not interchangeable), and a failed snapshot write
  never fails the call that triggered it.
"""

import contextlib
import json
import logging
import pickle
import threading
import time
from typing import Any
from typing import Dict
from typing import Iterator
from typing import List
from typing import Optional
from typing import Tuple

import redis.exceptions as rex

from ._client import Clients
from ._compat import OptunaRedisJournal
from .errors import JournalDamagedError
from .errors import JournalGapError
from .errors import RedisOffline
from .errors import outage_cause
from .identity import entry_digest

_logger = logging.getLogger("optuna.storages.enhanced_redis")

WRITER_TTL_SECONDS = 7 * 24 * 3600
ENTRY_BATCH = 1000
# Optuna (non-cluster) appends an entry and bumps the counter atomically, so a missing entry is
# lost data; a short re-check tolerates writers that use Optuna's cluster mode (INCR then SET).
GAP_RECHECKS = (0.05, 0.15)

# KEYS: counter, writer key, marker key ("" for none)
# ARGV: entry key prefix, sequence, entries this writer has read, writer TTL, marker value,
#       records...
# The newest entries this writer has not read yet must exist: no record is appended right
# after a lost one (at most 8 are checked, so an append stays O(1) with 50 writers; a gap
# further back is found by the next read, which refuses the journal from then on).
# Replies {status, index}: 1 appended (index of the last record, -1 when there were none),
# 0 this sequence was applied before (its index), 2 the marker was taken by someone else.
# Every check happens before the first write, so an error reply means nothing was written (a
# script's first denied write aborts it; later writes in the same script are not checked).
APPEND_LUA = """
local w = redis.call('get', KEYS[2])
if w then
  local ws, wi = string.match(w, '^(%d+):(%-?%d+)$')
  if ws and tonumber(ws) >= tonumber(ARGV[2]) then return {0, tonumber(wi)} end
end
local n = redis.call('get', KEYS[1])
local seen = tonumber(ARGV[3])
if not n then
  if seen > 0 or redis.call('exists', ARGV[1] .. '0') == 1 then
    return redis.error_reply('JOURNAL_REFUSED the counter ' .. KEYS[1] .. ' is missing while journal entries exist')
  end
elseif tonumber(n) + 1 < seen then
  return redis.error_reply('JOURNAL_REFUSED the journal holds ' .. (tonumber(n) + 1) .. ' entries but ' .. seen .. ' were read before (rolled back)')
else
  for k = math.max(seen, tonumber(n) - 7), tonumber(n) do
    if redis.call('exists', ARGV[1] .. k) == 0 then
      return redis.error_reply('JOURNAL_REFUSED entry ' .. ARGV[1] .. k .. ' is missing')
    end
  end
end
if KEYS[3] ~= '' then
  if not redis.call('set', KEYS[3], ARGV[5], 'NX') then
    redis.call('set', KEYS[2], ARGV[2] .. ':' .. (n or -1), 'EX', ARGV[4])
    return {2, tonumber(n or -1)}
  end
end
local i = -1
if #ARGV >= 6 then
  if not n then redis.call('set', KEYS[1], -1) end
  for k = 6, #ARGV do
    i = redis.call('incr', KEYS[1])
    redis.call('set', ARGV[1] .. i, ARGV[k])
  end
end
redis.call('set', KEYS[2], ARGV[2] .. ':' .. i, 'EX', ARGV[4])
return {1, i}
"""

APPENDED, ALREADY_APPLIED, MARKER_TAKEN = 1, 0, 2


class Attempt:
    """The last append a thread sent: its sequence and whether the server applied it."""

    __slots__ = ("seq", "records", "outcome", "index")

    def __init__(self, seq: int, records: List[str]) -> None:
        self.seq = seq
        self.records = records
        self.outcome = "unknown"  # "applied" | "not-applied" | "unknown"
        self.index = -1


def _is_lost_connection(e: BaseException) -> bool:
    return isinstance(e, rex.ConnectionError) and not isinstance(
        e, (rex.TimeoutError, rex.AuthenticationError, RedisOffline)
    )


class GuardedRedisJournal(OptunaRedisJournal):  # type: ignore[misc,valid-type]
    def __init__(self, clients: Clients, prefix: str, writer_id: str) -> None:
        # Optuna's constructor opens its own client (no timeouts); its key helpers only need
        # these attributes.
        self._url = "<managed by enhanced_redis_storage>"
        self._prefix = prefix
        self._use_cluster = False
        self._clients = clients
        self._redis = clients.journal
        self.writer_id = writer_id
        self._script = clients.journal.register_script(APPEND_LUA)
        self._seq = 0
        # Appends leave in sequence order, one at a time: the server skips a sequence not
        # above the last one it applied, so two threads racing here would lose a record.
        self._send_lock = threading.Lock()
        self._seen = 0
        self._last_raw: Optional[bytes] = None
        self._tls = threading.local()
        # Set when an append's fate is unknown; no later append may be sent until recovery
        # has fenced that sequence (otherwise "the writer's last sequence" stops meaning it).
        self.blocked: Optional[Attempt] = None
        self.offline = False

    # Keys (Optuna's schema, plus this package's keys under "<prefix>:enhanced:").
    @property
    def prefix(self) -> str:
        return self._prefix

    def counter_key(self) -> str:
        return "%s:log_number" % self._prefix

    def entry_key(self, n: int) -> str:
        return self._key_log_id(n)

    def snapshot_key(self) -> str:
        return "%s:snapshot" % self._prefix

    def writer_key(self) -> str:
        return "%s:enhanced:writer:%s" % (self._prefix, self.writer_id)

    @property
    def entries_read(self) -> int:
        return self._seen

    def __getstate__(self) -> Dict[Any, Any]:
        raise TypeError("GuardedRedisJournal is rebuilt by EnhancedRedisStorage, not pickled")

    # --- thread-local modes -------------------------------------------------------------
    @contextlib.contextmanager
    def capturing(self) -> Iterator[List[Dict[str, Any]]]:
        """Within this block, this thread's appends are collected instead of sent and its
        reads return nothing: Optuna's JournalStorage then builds a record without touching
        Redis or its replay."""
        prev = getattr(self._tls, "capture", None)
        self._tls.capture = []
        try:
            yield self._tls.capture
        finally:
            self._tls.capture = prev

    @contextlib.contextmanager
    def with_marker(self, key: Optional[str], value: str = "1") -> Iterator[None]:
        """This thread's next append is made only if ``key`` can be set (SET NX), atomically."""
        prev = getattr(self._tls, "marker", None)
        self._tls.marker = (key, value) if key else None
        try:
            yield
        finally:
            self._tls.marker = prev

    def take_attempt(self) -> Optional[Attempt]:
        a = getattr(self._tls, "attempt", None)
        self._tls.attempt = None
        return a

    def clear_attempt(self) -> None:
        self._tls.attempt = None

    # --- reads ----------------------------------------------------------------------------
    @contextlib.contextmanager
    def replay_only(self) -> Iterator[None]:
        """Within this block, this thread's reads return nothing new: Optuna's JournalStorage
        answers from the replay it holds (used while Redis is down)."""
        prev = getattr(self._tls, "replay_only", False)
        self._tls.replay_only = True
        try:
            yield
        finally:
            self._tls.replay_only = prev

    def read_logs(self, log_number_from: int) -> List[Dict[str, Any]]:  # type: ignore[override]
        if getattr(self._tls, "capture", None) is not None or getattr(self._tls, "replay_only", False):
            return []
        if self.offline:
            # A call that was in flight when another thread failed over must fail too: had it
            # read nothing and returned, its own record would be missing from the replay.
            raise RedisOffline("Redis is not in use (failed over)")
        try:
            return self._read(log_number_from)
        except Exception as e:
            if not _is_lost_connection(e):
                raise
        return self._read(log_number_from)  # once more on a fresh connection: reads are safe

    def _read(self, start: int) -> List[Dict[str, Any]]:
        r = self._redis
        raw_n = r.get(self.counter_key())
        if raw_n is None:
            if self._seen > 0 or start > 0:
                raise JournalDamagedError(
                    "the counter %s is gone after %d entries were read (Redis restarted empty or the key was deleted)"
                    % (self.counter_key(), max(self._seen, start))
                )
            return []
        try:
            n = int(raw_n)
        except ValueError:
            raise JournalDamagedError("%s holds %r, not a journal counter" % (self.counter_key(), raw_n[:40]))
        if n + 1 < max(self._seen, start):
            raise JournalDamagedError(
                "the journal holds %d entries but %d were read before (rolled back)" % (n + 1, max(self._seen, start))
            )
        if n < start:
            return []
        check_prev = start > 0 and start == self._seen and self._last_raw is not None
        first = start - 1 if check_prev else start
        raws = self._mget(first, n)
        if check_prev:
            if raws[0] != self._last_raw:
                raise JournalDamagedError(
                    "entry %d changed since it was read (the journal was rolled back and rewritten)" % (start - 1)
                )
            raws = raws[1:]
        for delay in GAP_RECHECKS:
            missing = [i for i, v in enumerate(raws) if v is None]
            if not missing:
                break
            time.sleep(delay)
            for i in missing:
                raws[i] = r.get(self.entry_key(start + i))
        missing = [i for i, v in enumerate(raws) if v is None]
        if missing:
            raise JournalGapError(
                "%s is missing (%d of entries %d..%d), the journal lost data"
                % (self.entry_key(start + missing[0]), len(missing), start, n)
            )
        logs: List[Dict[str, Any]] = []
        last_raw = self._last_raw
        for i, raw in enumerate(raws):
            try:
                logs.append(json.loads(raw))
            except ValueError:
                if start + i != n:
                    raise JournalDamagedError("%s is not JSON" % self.entry_key(start + i))
                break  # Optuna also skips an unreadable last entry (read again next time)
            last_raw = raw
        self._seen = start + len(logs)
        self._last_raw = last_raw
        return logs

    def _mget(self, first: int, last: int) -> List[Optional[bytes]]:
        out: List[Optional[bytes]] = []
        for lo in range(first, last + 1, ENTRY_BATCH):
            hi = min(last, lo + ENTRY_BATCH - 1)
            out.extend(self._redis.mget([self.entry_key(i) for i in range(lo, hi + 1)]))
        return out

    def verify_intact(self) -> None:
        """Raises JournalDamagedError unless the journal still holds what this process read
        (the counter, the last entry read, unchanged) and every entry after it."""
        if self._seen == 0:
            return
        r = self._redis
        raw_n = r.get(self.counter_key())
        if raw_n is None:
            raise JournalDamagedError(
                "the counter %s is gone (Redis came back empty?) after %d entries were read"
                % (self.counter_key(), self._seen)
            )
        if int(raw_n) + 1 < self._seen:
            raise JournalDamagedError(
                "the journal holds %d entries but %d were read before (rolled back)" % (int(raw_n) + 1, self._seen)
            )
        raw = r.get(self.entry_key(self._seen - 1))
        if raw is None:
            raise JournalGapError("%s, the last entry read, is missing" % self.entry_key(self._seen - 1))
        if self._last_raw is not None and raw != self._last_raw:
            raise JournalDamagedError("%s changed since it was read (rolled back)" % self.entry_key(self._seen - 1))
        self._check_present(self._seen, int(raw_n))

    def position(self) -> Optional[Dict[str, Any]]:
        """Where the journal stood at this process's last read (None before any entry)."""
        if self._seen == 0 or self._last_raw is None:
            return None
        return {"prefix": self._prefix, "entries": self._seen, "last_sha1": entry_digest(self._last_raw)}

    def departed_from(self, pos: Dict[str, Any]) -> Optional[str]:
        """Why the journal no longer holds what ``pos`` recorded (emptied, shorter, or that
        entry changed), or None when it still does. Reads two keys."""
        if pos.get("prefix") != self._prefix or not isinstance(pos.get("entries"), int) or pos["entries"] < 1:
            return None
        entries = pos["entries"]
        raw_n = self._redis.get(self.counter_key())
        if raw_n is None:
            return "the journal is gone (Redis restarted empty?): %d entries were read from it before the outage" % entries
        if int(raw_n) + 1 < entries:
            return "the journal holds %d entries but %d were read from it before the outage (rolled back)" % (
                int(raw_n) + 1,
                entries,
            )
        raw = self._redis.get(self.entry_key(entries - 1))
        if raw is None:
            return "%s, read before the outage, is missing" % self.entry_key(entries - 1)
        if entry_digest(raw) != pos.get("last_sha1"):
            return "%s changed since it was read before the outage (rolled back)" % self.entry_key(entries - 1)
        return None

    def _check_present(self, first: int, last: int) -> None:
        """Raises JournalGapError if an entry in [first, last] is missing."""
        for lo in range(first, last + 1, ENTRY_BATCH):
            hi = min(last, lo + ENTRY_BATCH - 1)
            pipe = self._redis.pipeline(transaction=False)
            for i in range(lo, hi + 1):
                pipe.exists(self.entry_key(i))
            for i, present in zip(range(lo, hi + 1), pipe.execute()):
                if not present:
                    raise JournalGapError("%s is missing, the journal lost data" % self.entry_key(i))

    # --- appends --------------------------------------------------------------------------
    def append_logs(self, logs: List[Dict[str, Any]]) -> None:  # type: ignore[override]
        cap = getattr(self._tls, "capture", None)
        if cap is not None:
            cap.extend(logs)
            return
        marker = getattr(self._tls, "marker", None)
        self._tls.marker = None
        self.append_records([json.dumps(log) for log in logs], marker)

    def append_records(
        self, records: List[str], marker: Optional[Tuple[str, str]] = None
    ) -> Tuple[int, int]:
        """Appends JSON records under a new sequence (atomically with ``marker`` SET NX);
        returns (status, index). Sends the same sequence once more after a lost connection."""
        if self.offline:
            raise RedisOffline("Redis is not in use (failed over)")
        with self._send_lock:
            if self.blocked is not None:
                raise RedisOffline("an earlier append is unresolved until Redis answers again")
            self._seq += 1
            seq = self._seq
            attempt = Attempt(seq, records)
            self._tls.attempt = attempt
            try:
                try:
                    status, index = self._run(seq, records, marker)
                except Exception as e:
                    if not _is_lost_connection(e):
                        raise
                    status, index = self._run(seq, records, marker)
            except Exception as e:
                if isinstance(e, rex.ResponseError):
                    attempt.outcome = "not-applied"  # an error reply: the script wrote nothing
                elif outage_cause(e) is not None:
                    self.blocked = attempt
                raise
        attempt.outcome = "applied" if status != MARKER_TAKEN else "not-applied"
        attempt.index = index
        return status, index

    def append_batch(
        self, items: List[Tuple[List[str], Optional[Tuple[str, str]]]]
    ) -> List[Tuple[int, int]]:
        """Several independent appends (each atomic with its marker) in one round trip. For
        reconcile, whose markers make a re-run safe whatever happened to a lost batch."""
        if self.offline:
            raise RedisOffline("Redis is not in use (failed over)")
        with self._send_lock:
            if self.blocked is not None:
                raise RedisOffline("an earlier append is unresolved until Redis answers again")
            pipe = self._redis.pipeline(transaction=False)
            for records, marker in items:
                self._seq += 1
                self._run(self._seq, records, marker, client=pipe)
            replies = pipe.execute(raise_on_error=False)
        out: List[Tuple[int, int]] = []
        for reply in replies:
            if isinstance(reply, Exception):
                raise reply
            out.append((int(reply[0]), int(reply[1])))
        return out

    def fence(self, seq: int) -> bool:
        """After an append whose fate was unknown: True when the server applied it; otherwise
        marks the sequence used, so a copy the server still holds can never apply later."""
        with self._send_lock:
            status, _ = self._run(seq, [], None)
        return status == ALREADY_APPLIED

    def _run(
        self, seq: int, records: List[str], marker: Optional[Tuple[str, str]], client: Any = None
    ) -> Any:
        keys = [self.counter_key(), self.writer_key(), marker[0] if marker else ""]
        args: List[Any] = [
            "%s:log:" % self._prefix,
            seq,
            self._seen,
            WRITER_TTL_SECONDS,
            marker[1] if marker else "",
        ] + records
        if client is not None:
            return self._script(keys=keys, args=args, client=client)
        reply = self._script(keys=keys, args=args)
        return int(reply[0]), int(reply[1])

    def probe_write(self) -> None:
        """A write that appends nothing (refused by a read-only or full server)."""
        with self._send_lock:
            self._seq += 1
            self._run(self._seq, [], None)

    # --- snapshot -------------------------------------------------------------------------
    def save_snapshot(self, snapshot: bytes) -> None:
        if getattr(self._tls, "capture", None) is not None or self.offline:
            return
        try:
            self._clients.bulk.set(self.snapshot_key(), snapshot)
        except Exception as e:  # an optimisation only: the journal itself is complete
            _logger.debug("journal snapshot not saved: %s", e)

    def load_snapshot(self) -> Optional[bytes]:
        if self.offline or getattr(self._tls, "replay_only", False):
            return None
        raw = self._clients.bulk.get(self.snapshot_key())
        if raw is None:
            return None
        try:
            pickle.loads(raw)
        except Exception as e:
            _logger.info(
                "ignoring %s (written by another Optuna release: %s); replaying the journal instead",
                self.snapshot_key(),
                type(e).__name__,
            )
            return None
        return raw
