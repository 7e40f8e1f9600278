"""The warm engine: one `pegasus serve` per quanted process imports the engine once and forks a
child per engine command, so only the first command pays the ~7 s of CPU that importing
TensorFlow, torch and acuitylib costs.

A pegasus serves when its script carries the line `# quanted-warm-engine: 1`
(scripts/acuity_pegasus.py); any other pegasus, QUANTED_ENGINE=cold, or a server that cannot
start runs cold, as before (the last said once on stderr). The server runs under a keeper like
a cold pegasus (it dies with quanted) and is kept for the process's life: a CLI command's
steps and the editor's session share it. A server that died is replaced on the next command;
the command it was running fails with a line saying so. EngineProcess (process.py) is the only
user: call sites see the same lines, status and cancel either way."""

from __future__ import annotations

import atexit
import json
import os
import queue
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
from collections import deque
from collections.abc import Callable, Iterator
from functools import lru_cache
from pathlib import Path
from typing import IO, Any

from quanted.core.engine.keeper import keeper_argv

MARKER = b"# quanted-warm-engine: 1"
MODE_VAR = "QUANTED_ENGINE"  # "cold": every command imports the engine itself
# Variables the engine may read while importing: a server started under other values is not
# reused. Every other variable is set per command in the child.
_IMPORT_TIME = ("PATH", "HOME", "TMPDIR", "LANG", "LC_", "LD_", "PYTHON", "TF_", "XLA_",
                "TORCH", "CUDA", "OMP_", "MKL_", "KMP_", "OPENBLAS_", "GOTO", "NUMEXPR",
                "ACUITY", "VIRTUAL_ENV")
_START_LINES = 40  # the server's start-up log kept for the message when it fails
LOST = ("quanted: the warm engine (pid {pid}) died while this command ran; the command failed "
        "(a new engine starts for the next one; QUANTED_ENGINE=cold runs each command alone)")


def enabled(environ: dict[str, str] | os._Environ[str] | None = None) -> bool:
    env = os.environ if environ is None else environ
    return (env.get(MODE_VAR, "").lower() != "cold" and sys.platform.startswith("linux")
            and hasattr(os, "pidfd_open") and hasattr(socket, "send_fds"))


def split(command: list[str], cwd: Path,
          environ: dict[str, str] | None = None) -> tuple[list[str], list[str]] | None:
    """(pegasus prefix, its arguments) when this command can run warm, else None."""
    if not enabled(environ):
        return None
    for i, word in enumerate(command[:3]):
        path = shutil.which(word) if os.sep not in word else os.path.join(cwd, word)
        if path and _serves(path):
            return command[: i + 1], command[i + 1:]
    return None


def _serves(path: str) -> bool:
    try:
        st = os.stat(path)
    except OSError:
        return False
    return _marked(os.path.realpath(path), st.st_mtime_ns, st.st_size)


@lru_cache(maxsize=16)
def _marked(path: str, mtime_ns: int, size: int) -> bool:
    if size > 1 << 20:  # a compiled pegasus, not our script
        return False
    try:
        with open(path, "rb") as f:
            return MARKER in f.read()
    except OSError:
        return False


class _Spawner:
    """A thread that lives as long as quanted: PR_SET_PDEATHSIG fires when the *thread* that
    started the keeper ends, so a server started from an editor worker would die with it."""

    def __init__(self) -> None:
        self._jobs: queue.Queue[tuple[Callable[[], Any], queue.Queue[Any]]] = queue.Queue()
        threading.Thread(target=self._loop, name="quanted-engine-spawner", daemon=True).start()

    def _loop(self) -> None:
        while True:
            job, answer = self._jobs.get()
            try:
                answer.put((True, job()))
            except BaseException as exc:  # handed to the caller
                answer.put((False, exc))

    def run(self, job: Callable[[], Any]) -> Any:
        answer: queue.Queue[Any] = queue.Queue()
        self._jobs.put((job, answer))
        ok, value = answer.get()
        if not ok:
            raise value
        return value


_spawner: _Spawner | None = None


def _spawn(job: Callable[[], Any]) -> Any:
    global _spawner
    if _spawner is None:
        _spawner = _Spawner()
    return _spawner.run(job)


class Server:
    """One `pegasus serve` under its keeper, in a private 0700 folder with its socket."""

    def __init__(self, key: tuple[Any, ...], prefix: list[str], env: dict[str, str]) -> None:
        self.key, self.prefix = key, prefix
        self.folder = Path(tempfile.mkdtemp(prefix="quanted-engine-"))
        self.socket = self.folder / "engine.sock"
        self.ready = threading.Event()  # set once it serves, or once it failed to start
        self.failure: str | None = None
        self.pid: int | None = None  # the server's own (the keeper's child)
        self.log: deque[str] = deque(maxlen=_START_LINES)
        argv = keeper_argv([*prefix, "serve", str(self.folder)])
        self.proc: subprocess.Popen[bytes] = _spawn(lambda: subprocess.Popen(
            argv, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, start_new_session=True))
        threading.Thread(target=self._read_start, name="quanted-engine-start",
                         daemon=True).start()

    def _read_start(self) -> None:
        assert self.proc.stdout is not None
        for raw in self.proc.stdout:
            line = raw.decode("utf-8", errors="replace").rstrip("\r\n")
            if line.startswith("ready ") and line[6:].isdigit():
                self.pid = int(line[6:])
                self.ready.set()
                break
            self.log.append(line)
        else:
            status = self.proc.wait()
            tail = [ln for ln in self.log if ln.strip()][-1:] or ["(no output)"]
            self.failure = f"`{' '.join(self.prefix)} serve` exited {status}: {tail[0]}"
            self.ready.set()
        self.proc.stdout.close()

    def alive(self) -> bool:
        return self.failure is None and self.proc.poll() is None

    def stop(self, grace: float = 5.0) -> None:
        """SIGTERM to the keeper, which passes it on to the server's group (the server removes
        what it put in the temp folder), then SIGUSR2 (SIGKILL to the group) after `grace`
        seconds. The commands it runs die with it."""
        for signum in (signal.SIGTERM, signal.SIGUSR2):
            if self.proc.poll() is not None:
                break
            try:
                os.kill(self.proc.pid, signum)
            except ProcessLookupError:
                break
            try:
                self.proc.wait(grace)
            except subprocess.TimeoutExpired:
                continue
        self.proc.wait()
        shutil.rmtree(self.folder, ignore_errors=True)


_lock = threading.Lock()
_server: Server | None = None
_failed: dict[tuple[Any, ...], str] = {}  # keys whose server could not start: cold from then
_said_cold = False
_exit_registered = False


def _key(prefix: list[str], env: dict[str, str]) -> tuple[Any, ...]:
    kept = tuple(sorted((k, v) for k, v in env.items() if k.startswith(_IMPORT_TIME)))
    return (tuple(prefix), kept)


def server_for(prefix: list[str], env: dict[str, str], replace: Server | None = None,
               ) -> Server | None:
    """The running server for this pegasus and environment, started when there is none (it
    returns at once; Server.ready tells when it serves). None when one could not start."""
    global _server
    key = _key(prefix, env)
    with _lock:
        if key in _failed:
            return None
        current = _server
        if current is not None and current.key == key and current.alive() \
                and current is not replace:
            return current
        _server = None
        if current is not None:
            current.stop()
        _server = Server(key, prefix, env)
        global _exit_registered
        if not _exit_registered:  # a quanted that ends normally stops it cleanly
            atexit.register(shutdown)
            _exit_registered = True
        return _server


def prewarm(command: list[str], cwd: Path) -> None:
    """Start the server for this pegasus in the background (the editor's first engine key)."""
    parts = split(command, cwd)
    if parts is not None:
        server_for(parts[0], {**os.environ, "PYTHONUNBUFFERED": "1"})


def prewarm_found(cwd: Path) -> None:
    """prewarm() for the pegasus quanted would find (QUANTED_PEGASUS, PATH): none, no matter."""
    from quanted.core.engine.discovery import EngineNotFound, find_pegasus

    try:
        prewarm([*find_pegasus(), "quantize"], cwd)
    except EngineNotFound:
        pass


def running() -> bool:
    with _lock:
        return _server is not None and _server.alive()


def shutdown() -> None:
    """Stop the server now (tests, benchmarks); the next command starts another."""
    global _server
    with _lock:
        current, _server = _server, None
        _failed.clear()
    if current is not None:
        current.stop()


def note_cold(reason: str) -> None:
    global _said_cold
    if not _said_cold:
        _said_cold = True
        sys.stderr.write(f"quanted: the warm engine cannot start ({reason}); "
                         "running each engine command cold\n")


class WarmRun:
    """One engine command in a forked child of a server: its output pipe, its pid, its exit
    status from the server. `open` blocks until the server serves (the first command waits out
    the imports)."""

    def __init__(self, prefix: list[str], args: list[str], cwd: Path,
                 env: dict[str, str]) -> None:
        self.prefix, self.args, self.cwd, self.env = prefix, args, cwd, env
        self.server: Server | None = None
        self.child: int | None = None
        self.status: int | None = None
        self.lost = False  # the server died before the command's end
        self.done = threading.Event()
        self.output: IO[bytes] | None = None
        self._conn: socket.socket | None = None
        self._send_lock = threading.Lock()

    def open(self, cancelled: threading.Event) -> str | None:
        """Submit the command; None when it runs, else why it cannot run warm. A server that
        died before the command was submitted is replaced once."""
        replace: Server | None = None
        for _ in range(2):
            server = server_for(self.prefix, self.env, replace)
            if server is None:
                return "the warm engine could not start before"
            while not server.ready.wait(0.5):  # short waits: a signal handler gets to run
                if cancelled.is_set():
                    return "cancelled"
            if cancelled.is_set():
                return "cancelled"
            if server.failure is not None:
                with _lock:
                    _failed[server.key] = server.failure
                return server.failure
            if self._submit(server):
                return None
            replace = server
        return "the warm engine died at start"

    def _submit(self, server: Server) -> bool:
        read, write = os.pipe()
        conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            conn.connect(str(server.socket))
            body = json.dumps({"argv": [self.prefix[-1], *self.args], "cwd": str(self.cwd),
                               "env": self.env}).encode()
            socket.send_fds(conn, [len(body).to_bytes(4, "big") + body], [write])
            answers = conn.makefile("rb")  # the one reader of the server's answers
            reply = answers.readline()
        except OSError:
            reply = b""
        finally:
            os.close(write)
        if not reply.startswith(b"pid "):
            conn.close()
            os.close(read)
            return False
        self.server, self.child, self._conn = server, int(reply.split()[1]), conn
        self.output = os.fdopen(read, "rb")
        threading.Thread(target=self._await_exit, args=(conn, answers),
                         name="quanted-engine-run", daemon=True).start()
        return True

    def _await_exit(self, conn: socket.socket, answers: IO[bytes]) -> None:
        with answers:
            for line in answers:
                if line.startswith(b"exit "):
                    self.status = int(line.split()[1])
                    break
        if self.status is None:
            self.lost = True
            self.status = 1
        conn.close()
        self.done.set()

    def lines(self) -> Iterator[bytes]:
        assert self.output is not None
        with self.output:
            yield from self.output
        self.done.wait()

    def wait(self, timeout: float | None = None) -> int | None:
        self.done.wait(timeout)
        return self.status

    def signal(self, hard: bool) -> None:
        """SIGTERM (or SIGKILL) to the command's process group, through the server (which
        knows whether that pid is still its child: no signal can reach a reused pid)."""
        conn = self._conn
        if conn is None or self.done.is_set():
            return
        with self._send_lock:
            try:
                conn.sendall(b"kill\n" if hard else b"term\n")
            except OSError:
                pass
