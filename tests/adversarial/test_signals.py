"""Issue 11 item 2: a hybrid run stopped by SIGTERM, SIGHUP or SIGKILL leaves the user's file
protected. With a STAND-IN engine (tests/adversarial/standin_pegasus.py) that tears the file
at once and never ends; the same against the real engine is in test_signals_engine.py."""

from __future__ import annotations

import json
import os
import signal
import sys
from pathlib import Path

import pytest

from quanted.cli import main
from tests.adversarial.signals import alive, finish, start_hybrid, wait_for_fifo, wait_gone
from tests.conftest import SAMPLE

STANDIN = Path(__file__).with_name("standin_pegasus.py")
QUANTIZE = "tinynet_uint8.quantize"


@pytest.fixture
def sample(tmp_path):
    for item in SAMPLE.iterdir():
        if item.is_file() and item.suffix != ".md":
            (tmp_path / item.name).write_bytes(item.read_bytes())
    path = tmp_path / QUANTIZE
    assert main(["add", str(path), "layer2/layer2.1/Add_output_0_12", "--comment", "mine"]) == 0
    return path


def _history(folder: Path) -> list[dict]:
    index = folder / ".quanted" / "history" / "history.jsonl"
    return [json.loads(line) for line in index.read_text().splitlines()]


def _run_and_signal(sample: Path, signum: int):
    before, entropy = sample.read_bytes(), (sample.parent / "entropy.txt").read_bytes()
    pid_file = sample.parent / "standin.pid"
    ready = sample.parent / "standin.ready"
    os.mkfifo(ready)
    proc = start_hybrid(sample, [sys.executable, str(STANDIN)],
                        {"STANDIN_PID_FILE": str(pid_file), "STANDIN_READY": str(ready)})
    wait_for_fifo(ready, proc)
    engine = int(pid_file.read_text())
    assert sample.read_bytes() != before  # the stand-in tore the file
    proc.send_signal(signum)
    err = finish(proc)
    wait_gone(engine)
    return proc, before, entropy, engine, err


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
def test_sigterm_and_sighup_stop_the_engine_restore_and_record(sample, signum):
    proc, before, entropy, engine, err = _run_and_signal(sample, signum)
    assert proc.returncode == 128 + signum, err
    assert not alive(engine)
    assert sample.read_bytes() == before
    assert (sample.parent / "entropy.txt").read_bytes() == entropy
    assert f"stopped by {signal.Signals(signum).name}; restored" in err
    last = _history(sample.parent)[-1]
    assert last["kind"] == "hybrid-cancelled" and last["data"]["signal"] == signum
    assert not list((sample.parent / ".quanted").glob("in-progress.*"))
    assert main(["add", str(sample), "layer1/layer1.0/Add_output_0_26"]) == 0


def test_sigkill_kills_the_engine_too_and_recover_restores(sample, capsys):
    proc, before, entropy, engine, err = _run_and_signal(sample, signal.SIGKILL)
    assert proc.returncode == -signal.SIGKILL
    assert not alive(engine)  # the parent-death signal took it down with quanted
    torn = sample.read_bytes()
    assert torn != before
    # The next command on the file says what happened; edits wait for the user's choice.
    capsys.readouterr()
    assert main(["add", str(sample), "layer1/layer1.0/Add_output_0_26"]) == 1
    err = capsys.readouterr().err
    assert "a hybrid run (pid" in err and "stopped before it finished" in err
    assert f"quanted recover {sample}" in err
    assert sample.read_bytes() == torn
    assert main(["recover", str(sample)]) == 0
    assert "restored tinynet_uint8.quantize from" in capsys.readouterr().out
    assert sample.read_bytes() == before
    assert (sample.parent / "entropy.txt").read_bytes() == entropy
    assert _history(sample.parent)[-1]["kind"] == "recovered"
    assert main(["add", str(sample), "layer1/layer1.0/Add_output_0_26"]) == 0
    assert main(["recover", str(sample)]) == 1  # nothing left to recover


def test_recover_keep_leaves_the_file_and_unblocks_edits(sample, capsys):
    _run_and_signal(sample, signal.SIGKILL)
    assert main(["recover", str(sample), "--keep"]) == 0
    assert sample.read_bytes() == b"version: 2\nquantize_parameters:\n  '@half"
    assert _history(sample.parent)[-1]["kind"] == "recover-kept"
    capsys.readouterr()
    assert main(["add", str(sample), "x"]) == 2  # the torn file itself is unreadable now
    assert "quanted recover" not in capsys.readouterr().err


def test_the_editor_refuses_a_file_in_doubt(sample, capsys):
    _run_and_signal(sample, signal.SIGKILL)
    capsys.readouterr()
    assert main([str(sample)]) == 1
    assert "quanted recover" in capsys.readouterr().err


STUBBORN = """
import os, signal, subprocess, sys, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)
worker = subprocess.Popen([sys.executable, "-c", "import time\\nwhile True: time.sleep(3600)"])
print(os.getpid(), worker.pid, flush=True)
while True:
    time.sleep(3600)
"""


def test_a_cancel_stops_a_stand_in_that_ignores_sigterm_and_its_worker(tmp_path):
    from quanted.core.engine.process import EngineProcess

    script = tmp_path / "stubborn.py"
    script.write_text(STUBBORN)  # a STAND-IN engine that ignores SIGTERM and starts a worker
    engine = EngineProcess([sys.executable, str(script)], tmp_path)
    engine.start()
    pegasus, worker = map(int, next(engine.lines()).split())
    engine.cancel(grace=0.2)
    assert engine.wait() == -signal.SIGKILL
    assert not alive(pegasus)  # reaped by the keeper, not even a zombie
    wait_gone(worker)
    assert not alive(worker)
