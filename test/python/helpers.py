"""Real parts for the Python tests: disposable redis-server processes on free loopback ports
(killed, frozen, paused, filled, demoted and restarted by pid, never by name), a TCP proxy that
loses replies, and real worker processes on each Optuna release."""

import json
import os
import select
import signal
import socket
import subprocess
import tempfile
import threading
import time
from typing import Any
from typing import Callable
from typing import Dict
from typing import List
from typing import Optional

import redis

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
PACKAGE_DIR = os.path.join(REPO, "python")
PYTHON = os.environ.get("OSM_PYTHON", "/usr/bin/python3")
SHARED_OPTUNA = os.environ.get(
    "OSM_SHARED_OPTUNA", os.path.join(os.path.dirname(REPO), "shared", "third_party", "optuna")
)
if not os.path.isdir(SHARED_OPTUNA):
    SHARED_OPTUNA = "/work/shared/third_party/optuna"

# Optuna releases users run: Debian's (on the default path) and the sources next to the repo.
OPTUNA_RELEASES = ["3.1.0", "3.6.1", "4.9.0", "5.0.0-rc1"]


def optuna_path(version: str) -> Optional[str]:
    """PYTHONPATH entry for a release ("" for Debian's), None when its sources are absent."""
    if version == "3.1.0":
        return ""
    p = os.path.join(SHARED_OPTUNA, version)
    return p if os.path.isdir(os.path.join(p, "optuna")) else None


def missing_reason(version: str) -> str:
    return "Optuna %s sources not found at %s (only in the development checkout and CI)" % (
        version,
        os.path.join(SHARED_OPTUNA, version),
    )


def free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_for(predicate: Callable[[], Any], timeout: float, what: str, step: float = 0.05) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        v = predicate()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError("timed out after %.1f s waiting for %s" % (timeout, what))
        time.sleep(step)


class RedisServer:
    """A redis-server owned by one test, with an AOF (fsync always) so that a restart keeps
    the journal unless the test asks for an empty restart."""

    def __init__(self, persistent: bool = True, extra: Optional[List[str]] = None) -> None:
        self.dir = tempfile.mkdtemp(prefix="osm-py-redis-")
        self.port = free_port()
        self.persistent = persistent
        self.extra = list(extra or [])
        self.proc: Optional[subprocess.Popen] = None
        self.start()

    @property
    def url(self) -> str:
        return "redis://127.0.0.1:%d" % self.port

    def start(self) -> None:
        args = [
            "redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--dir", self.dir,
            "--save", "", "--daemonize", "no", "--logfile", os.path.join(self.dir, "redis.log"),
            "--maxmemory-policy", "noeviction",
        ]
        if self.persistent:
            args += ["--appendonly", "yes", "--appendfsync", "always"]
        else:
            args += ["--appendonly", "no"]
        self.proc = subprocess.Popen(args + self.extra, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(self._pong, 10, "redis-server on port %d" % self.port)

    def _pong(self) -> bool:
        try:
            return bool(self.client(timeout=0.5).ping())
        except redis.exceptions.RedisError:
            return False

    def client(self, timeout: float = 5.0) -> "redis.Redis":
        return redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=timeout, socket_connect_timeout=timeout)

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGCONT)
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def shutdown_nosave(self) -> None:
        try:
            self.client().execute_command("SHUTDOWN", "NOSAVE")
        except redis.exceptions.ConnectionError:
            pass  # the server closes the connection as it exits
        assert self.proc is not None
        self.proc.wait(10)

    def stop(self) -> None:  # SIGSTOP: frozen, sockets still accept
        os.kill(self.pid, signal.SIGSTOP)

    def cont(self) -> None:
        os.kill(self.pid, signal.SIGCONT)

    def restart(self, empty: bool = False) -> None:
        self.kill()
        if empty:
            for f in os.listdir(self.dir):
                p = os.path.join(self.dir, f)
                if f != "redis.log":
                    subprocess.run(["rm", "-rf", p], check=True)
        self.start()

    def dispose(self) -> None:
        self.kill()
        subprocess.run(["rm", "-rf", self.dir], check=False)


class _LoopbackProxy:
    """A TCP proxy on a free loopback port in front of a Redis server: each client connection
    is served by ``_pipe`` (the subclass's) on a thread of its own."""

    def __init__(self, target_port: int, backlog: int) -> None:
        self.target = target_port
        self.port = free_port()
        self._lock = threading.Lock()
        self._srv = socket.socket()
        self._srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._srv.bind(("127.0.0.1", self.port))
        self._srv.listen(backlog)
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return "redis://127.0.0.1:%d" % self.port

    def close(self) -> None:
        self._closed = True
        self._srv.close()

    def _accept(self) -> None:
        while not self._closed:
            try:
                c, _ = self._srv.accept()
            except OSError:
                return
            threading.Thread(target=self._pipe, args=(c,), daemon=True).start()

    def _pipe(self, client: socket.socket) -> None:
        raise NotImplementedError


class ReplyDropProxy(_LoopbackProxy):
    """Forwards a client's TCP stream to Redis; ``drop(n)`` makes it swallow the server's
    replies to ``n`` script calls (EVALSHA/EVAL; never two in a row) and cut that client's
    connection -- the server has executed the call, the client never hears so. ``delay(s)`` instead holds the
    next script call for ``s`` seconds before the server sees it (a late execution)."""

    def __init__(self, target_port: int) -> None:
        self._drop = 0
        self._delay = 0.0
        self.dropped = 0
        self.delayed = 0
        # Set once a held call has reached the server (its reply is in late_replies).
        self.late_done = threading.Event()
        self.late_replies: List[bytes] = []
        self._just_dropped = False
        super().__init__(target_port, backlog=64)

    def drop(self, n: int) -> None:
        with self._lock:
            self._drop += n

    def delay(self, seconds: float) -> None:
        with self._lock:
            self._delay = seconds

    def _take(self, data: bytes) -> str:
        if b"EVALSHA" not in data.upper() and b"*3\r\n$4\r\nEVAL" not in data.upper():
            return "pass"
        with self._lock:
            if self._delay > 0:
                d, self._delay = self._delay, 0.0
                self.delayed += 1
                return "delay:%f" % d
            if self._drop > 0 and not self._just_dropped:
                # Every other script call: the client's resend of a dropped one gets through.
                self._drop -= 1
                self.dropped += 1
                self._just_dropped = True
                return "drop"
            self._just_dropped = False
        return "pass"

    def _pipe(self, client: socket.socket) -> None:
        try:
            server = socket.create_connection(("127.0.0.1", self.target))
        except OSError:  # the server is gone (e.g. a storage's last DEL at interpreter exit)
            client.close()
            return
        cut_after_forward = False
        try:
            while True:
                r, _, _ = select.select([client, server], [], [], 0.5)
                if self._closed:
                    return
                if client in r:
                    data = client.recv(65536)
                    if not data:
                        return
                    action = self._take(data)
                    if action.startswith("delay:"):
                        # The client hears nothing (and times out); the server runs the command
                        # later, on a connection of its own.
                        secs = float(action.split(":")[1])
                        threading.Timer(secs, self._late, args=(data,)).start()
                        continue
                    server.sendall(data)
                    if action == "drop":
                        cut_after_forward = True
                if server in r:
                    data = server.recv(65536)
                    if not data:
                        return
                    if cut_after_forward:
                        return  # the reply is swallowed, the client's connection cut
                    client.sendall(data)
        except OSError:
            return
        finally:
            client.close()
            server.close()

    def _late(self, data: bytes) -> None:
        try:
            s = socket.create_connection(("127.0.0.1", self.target))
        except OSError:
            self.late_done.set()  # the server is gone: nothing reached it
            return
        try:
            s.sendall(data)
            s.settimeout(5)
            self.late_replies.append(s.recv(65536))
        except OSError:
            pass
        finally:
            s.close()
            self.late_done.set()


def worker_env(version: str, extra: Optional[Dict[str, str]] = None) -> Dict[str, str]:
    p = optuna_path(version)
    assert p is not None, missing_reason(version)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(x for x in [p, PACKAGE_DIR] if x)
    env["PYTHONWARNINGS"] = "ignore"
    env.pop("OPTUNA_STORAGE_REDIS_CONFIG", None)
    env.update(extra or {})
    return env


def spawn_worker(version: str, args: List[str], log: str, env: Optional[Dict[str, str]] = None) -> subprocess.Popen:
    return subprocess.Popen(
        [PYTHON, os.path.join(HERE, "fleet_worker.py"), "--log", log] + args,
        env=worker_env(version, env),
        stdout=subprocess.DEVNULL,
        stderr=open(log + ".stderr", "w"),
    )


def run_check(version: str, args: List[str], timeout: float = 300) -> Dict[str, Any]:
    """Plain Optuna of ``version`` reading the study back (test/python/optuna_check.py)."""
    out = subprocess.run(
        [PYTHON, os.path.join(HERE, "optuna_check.py")] + args,
        env=worker_env(version),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if out.returncode != 0:
        raise AssertionError("optuna_check.py failed:\n%s" % out.stderr[-3000:])
    return json.loads(out.stdout)


def read_jsonl(path: str) -> List[Dict[str, Any]]:
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


class ScriptGate(_LoopbackProxy):
    """A TCP proxy to Redis that passes its clients' first ``allow`` script calls
    (EVALSHA/EVAL, counted over all connections) and holds every command after them: the
    server runs exactly those, the client waits for replies that never come (a write cut off
    halfway through a pipeline). What is held is dropped when the client's connection ends,
    so nothing reaches the server after the client dies."""

    def __init__(self, target_port: int, allow: int) -> None:
        self.allow = allow
        self.passed = 0
        self.held = 0  # commands held back (never sent)
        super().__init__(target_port, backlog=16)

    @staticmethod
    def _split(buf: bytes) -> "tuple[List[bytes], bytes]":
        """Complete RESP commands (arrays of bulk strings) at the start of ``buf``, and the rest."""
        out, pos = [], 0
        while True:
            start = pos
            if pos == len(buf):
                return out, b""
            if buf[pos:pos + 1] != b"*":
                raise ValueError("not a RESP array (redis-py sends only those)")
            try:
                if b"\r\n" not in buf[pos:]:
                    raise IndexError
                end = buf.index(b"\r\n", pos)
                pos = end + 2
                for _ in range(int(buf[start + 1:end])):
                    if b"\r\n" not in buf[pos:]:
                        raise IndexError
                    end = buf.index(b"\r\n", pos)
                    n = int(buf[pos + 1:end])
                    pos = end + 2 + n + 2
                    if pos > len(buf):
                        raise IndexError
            except IndexError:
                return out, buf[start:]  # an incomplete command: wait for the rest
            out.append(buf[start:pos])

    @staticmethod
    def _name(cmd: bytes) -> bytes:
        first = cmd.index(b"\r\n")
        size_end = cmd.index(b"\r\n", first + 2)
        n = int(cmd[first + 3:size_end])
        return cmd[size_end + 2:size_end + 2 + n].upper()

    def _pipe(self, client: socket.socket) -> None:
        server = socket.create_connection(("127.0.0.1", self.target))
        pending = b""
        holding = False
        try:
            while True:
                r, _, _ = select.select([client, server], [], [], 0.5)
                if self._closed:
                    return
                if client in r:
                    data = client.recv(65536)
                    if not data:
                        return
                    cmds, pending = self._split(pending + data)
                    send = []
                    for cmd in cmds:
                        with self._lock:
                            if not holding and self._name(cmd) in (b"EVALSHA", b"EVAL"):
                                holding = self.passed >= self.allow
                                self.passed += 0 if holding else 1
                            if holding:
                                self.held += 1
                            else:
                                send.append(cmd)
                    if send:
                        server.sendall(b"".join(send))
                if server in r:
                    data = server.recv(65536)
                    if not data:
                        return
                    client.sendall(data)
        except OSError:
            return
        finally:
            client.close()
            server.close()
