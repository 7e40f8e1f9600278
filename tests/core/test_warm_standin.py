"""The warm engine's plumbing with a STAND-IN pegasus (tests/core/warm_standin.py: the real
fork server, stand-in commands): lines, status, folder and environment as a cold run gives
them; cancel; a server killed mid-command; a server that cannot start; quanted killed. The
engine's own bytes, warm against cold, are tests/engine/test_warm_engine.py's."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from quanted.core.engine import warm
from quanted.core.engine.process import EngineProcess
from tests.adversarial.signals import alive, wait_gone

STANDIN = Path(__file__).resolve().with_name("warm_standin.py")


def command(*args: str) -> list[str]:
    return [sys.executable, str(STANDIN), *args]


def follow(cwd: Path, *args: str, on_line=None) -> tuple[EngineProcess, int, list[str]]:
    process = EngineProcess(command(*args), cwd)
    process.start()
    lines: list[str] = []

    def take(line: str) -> None:
        lines.append(line)
        if on_line is not None:
            on_line(process, line)

    return process, process.follow(take), lines


@pytest.fixture(autouse=True)
def own_server(monkeypatch):
    monkeypatch.delenv(warm.MODE_VAR, raising=False)
    warm.shutdown()
    yield
    warm.shutdown()


def test_a_warm_command_gives_what_a_cold_one_gives(tmp_path, monkeypatch):
    monkeypatch.setenv("STANDIN_WORD", "hello")
    hot, hot_status, hot_lines = follow(tmp_path, "say", "3", "5")
    again, _, _ = follow(tmp_path, "say", "0", "0")
    monkeypatch.setenv(warm.MODE_VAR, "cold")
    cold, cold_status, cold_lines = follow(tmp_path, "say", "3", "5")
    assert hot_status == cold_status == 5
    assert hot_lines == cold_lines == ["line 0", "line 1", "line 2", f"{tmp_path} hello"]
    assert hot._warm is not None and cold._warm is None
    assert hot._warm.server is again._warm.server  # one server for both
    assert hot.pid != again.pid  # a child each


def test_cancel_stops_the_command_and_keeps_the_server(tmp_path):
    def cancel_when_blocking(process: EngineProcess, line: str) -> None:
        if line == "blocking":
            threading.Thread(target=process.cancel).start()

    process, status, lines = follow(tmp_path, "block", on_line=cancel_when_blocking)
    assert status == -signal.SIGTERM and lines == ["blocking"]
    assert process.pid is not None
    wait_gone(process.pid)
    server = process._warm.server
    assert server is not None and server.alive()


def test_a_killed_server_fails_its_command_and_is_replaced(tmp_path):
    process, status, lines = follow(tmp_path, "crash-server")
    assert status == 1
    assert lines[0] == "blocking"
    assert "the warm engine" in lines[-1] and "died while this command ran" in lines[-1]
    wait_gone(process.pid)
    after, status, _ = follow(tmp_path, "say", "0", "0")
    assert status == 0 and after._warm is not None
    assert after._warm.server is not process._warm.server


def test_a_server_that_cannot_start_means_cold_runs_said_once(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("STANDIN_SERVE_FAIL", "1")
    monkeypatch.setattr(warm, "_said_cold", False)
    first, status, lines = follow(tmp_path, "say", "1", "0")
    second, status2, _ = follow(tmp_path, "say", "1", "0")
    assert status == status2 == 0 and lines[0] == "line 0"
    assert first._warm is None and second._warm is None  # both ran cold
    err = capsys.readouterr().err
    assert err.count("the warm engine cannot start") == 1
    assert "stand-in: no engine here" in err


def test_no_engine_outlives_a_killed_quanted(tmp_path):
    """SIGKILL to quanted mid-command: the keeper takes the server down, the command with it."""
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from quanted.core.engine.process import EngineProcess\n"
        f"p = EngineProcess({command('block')!r}, Path({str(tmp_path)!r}))\n"
        "p.start()\n"
        "def said(line):\n"
        "    print(p.pid, p._warm.server.proc.pid, p._warm.server.pid, flush=True)\n"
        "p.follow(said)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])})
    assert proc.stdout is not None
    pids = [int(word) for word in proc.stdout.readline().split()]
    assert len(pids) == 3 and all(alive(pid) for pid in pids)  # command, keeper, server
    proc.kill()
    proc.wait()
    for pid in pids:
        wait_gone(pid)
