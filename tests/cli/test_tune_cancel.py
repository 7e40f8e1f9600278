"""ctrl+c ends `quanted tune` promptly with 130, the file untouched and no engine left running,
wherever it lands: against the STAND-IN for pegasus (tests/cli/tune_stand_in.py), whose
`hang_on_quantize` trials block until they are killed and say so with a file."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from quanted.core.tune import runner, session
from quanted.core.tune.figures import Target
from quanted.core.tune.progress import TrialStarted
from tests.cli.test_tune_stand_in import (
    NON_MONOTONIC,
    PEGASUS,
    configure,
    ctrl_c_as_at_a_terminal,
    make_model,
)
from tests.conftest import REPO

WAIT = 120  # seconds: only a bound for a failing test, never a pause


@pytest.fixture
def model(tmp_path, monkeypatch):
    return make_model(tmp_path, monkeypatch)


def wait_for(path: Path, proc: subprocess.Popen | None = None) -> int:
    """Wait until the stand-in has written `path` (its pid); the pid."""
    deadline = time.monotonic() + WAIT
    while not path.exists():
        assert proc is None or proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, f"{path.name} never appeared"
        time.sleep(0.02)  # polling for the file the stand-in writes once it runs
    return int(path.read_text())


def running(pid: int) -> bool:
    stat = Path(f"/proc/{pid}/stat")
    try:
        return "Z" not in stat.read_text().split()[2]
    except FileNotFoundError:
        return False


def kill(pids: list[int]) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def test_ctrl_c_outside_the_wait_still_stops_the_running_trial(model, monkeypatch, tmp_path):
    # With --jobs 2 a trial runs while the progress of the next is printed: ctrl+c there
    # (here: KeyboardInterrupt from the progress callback, once the all-raised trial's engine
    # is known to be running; the plain trial before it runs no quantize) once left that
    # engine running while the executor's shutdown waited for it, for ever with this stand-in.
    configure(model, monkeypatch, weights=NON_MONOTONIC, hang_on_quantize=1)
    before = model.read_bytes()
    setup = session.prepare(model, session.Options(Target(0.99), jobs=2, pegasus=PEGASUS))
    hung: list[int] = []

    def on_event(event) -> None:
        if isinstance(event, TrialStarted) and event.index == 3:
            hung.append(wait_for(tmp_path / "hang"))
            raise KeyboardInterrupt

    raised: list[BaseException] = []

    def tune() -> None:
        try:
            session.search(setup, on_event)
        except BaseException as exc:  # noqa: BLE001 - handed to the test's thread
            raised.append(exc)

    thread = threading.Thread(target=tune, daemon=True)
    thread.start()
    thread.join(WAIT)
    try:
        assert not thread.is_alive(), "the search did not end after ctrl+c"
        assert len(raised) == 1 and isinstance(raised[0], runner.TuneCancelled), raised
        assert raised[0].exit_code == 130
        assert hung and not running(hung[0])  # the trial's engine was stopped
    finally:
        kill(hung)
    assert model.read_bytes() == before
    assert list((tmp_path / "tmp").iterdir()) == []  # its scratch folder is gone


def test_sigint_with_two_trials_running_exits_130(model, monkeypatch, tmp_path):
    configure(model, monkeypatch, weights=NON_MONOTONIC, hang_on_quantize=[1, 2])
    before = model.read_bytes()
    env = {**os.environ, "TMPDIR": str(tmp_path / "tmp"), "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([sys.executable, "-m", "quanted", "tune", str(model), "--pegasus",
                             PEGASUS, "--jobs", "2"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True,
                            preexec_fn=ctrl_c_as_at_a_terminal)
    hung: list[int] = []
    try:
        hung = [wait_for(tmp_path / f"hang-{n}", proc) for n in (1, 2)]
        proc.send_signal(signal.SIGINT)
        _out, err = proc.communicate(timeout=WAIT)
    finally:  # a failing test leaves neither the tune nor the hung stand-ins behind
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        left = [pid for pid in hung if running(pid)]
        kill(hung)
    assert proc.returncode == 130, err
    assert "cancelled" in err and model.read_bytes() == before
    assert left == []  # both trials' engines were stopped
    assert list((tmp_path / "tmp").iterdir()) == []


def test_sigint_during_the_ranking_analysis_exits_130(model, monkeypatch, tmp_path):
    configure(model, monkeypatch, weights=NON_MONOTONIC)
    monkeypatch.setenv("STANDIN_MODE", "hang")  # the analysis stand-in's runs block
    before = model.read_bytes()
    env = {**os.environ, "TMPDIR": str(tmp_path / "tmp"), "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([sys.executable, "-m", "quanted", "tune", str(model), "--pegasus",
                             PEGASUS, "--rank", "drop"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True,
                            preexec_fn=ctrl_c_as_at_a_terminal)
    try:
        assert proc.stderr is not None
        lines = []
        for line in proc.stderr:  # the tune's progress, line by line as it comes
            lines.append(line)
            if "[ranking] analysis run 1 of 2" in line:
                break
        assert lines and "[ranking] analysis run 1 of 2" in lines[-1], "".join(lines)
        proc.send_signal(signal.SIGINT)
        _out, err = proc.communicate(timeout=WAIT)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, err
    assert "cancelled" in err and model.read_bytes() == before
    assert list((tmp_path / "tmp").iterdir()) == []
