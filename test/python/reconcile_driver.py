"""A long-lived reconcile process for the race tests (a real process; the test runs two of
them). Each stdin line is a JSON request {"argv": [...], "gate": DIR or null, "me": NAME,
"peer": NAME}; the process runs the reconcile command (``reconcile.main``, what
``python3 -m enhanced_redis_storage reconcile`` runs) and prints one JSON line
{"code", "out", "err", "gate"}. Staying alive between rounds spares the interpreter start.

With a gate, the first trial record this process builds waits (up to 60 s) until the peer has
built its own: both have then planned from the same Redis state before either writes, the
worst case for duplicates, so exactly-once rests on the marker keys alone. "gate" in the reply
says "met", "timeout" or "unused"."""

import contextlib
import io
import json
import os
import sys
import time

from enhanced_redis_storage import reconcile as rec

_gate = {"req": None, "result": "unused"}
_records_for = rec.Reconciler._records_for


def _gated(self, *a, **k):
    req = _gate["req"]
    if req is not None:
        _gate["req"] = None
        open(os.path.join(req["gate"], req["me"]), "w").close()
        deadline = time.monotonic() + 60
        peer = os.path.join(req["gate"], req["peer"])
        while not os.path.exists(peer) and time.monotonic() < deadline:
            time.sleep(0.002)
        _gate["result"] = "met" if os.path.exists(peer) else "timeout"
    return _records_for(self, *a, **k)


rec.Reconciler._records_for = _gated


def main():
    for line in sys.stdin:
        req = json.loads(line)
        _gate["req"] = req if req.get("gate") else None
        _gate["result"] = "unused"
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = rec.main(req["argv"])
            except Exception as e:  # reported, not fatal: the test fails on it with the text
                code = -1
                err.write(repr(e))
        sys.stdout.write(json.dumps({"code": code, "out": out.getvalue(), "err": err.getvalue(), "gate": _gate["result"]}) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
