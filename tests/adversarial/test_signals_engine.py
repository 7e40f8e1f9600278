"""Issue 11 item 2 against the REAL engine (acuitylite 6.57.1): `quanted hybrid` stopped by
SIGTERM, SIGHUP or SIGKILL once pegasus is running. pegasus (its whole process group) goes
with quanted, the file and entropy.txt come back byte for byte (SIGKILL: through
`quanted recover`), and the run is recorded."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest

from quanted.cli import main
from tests.adversarial.signals import (
    alive,
    engine_pids,
    finish,
    start_hybrid,
    wait_for_engine_line,
    wait_gone,
)
from tests.conftest import SAMPLE

pytestmark = pytest.mark.engine
QUANTIZE = "tinynet_uint8.quantize"


@pytest.fixture
def sample(tmp_path):
    for item in SAMPLE.iterdir():
        if item.is_file() and item.suffix != ".md":
            (tmp_path / item.name).write_bytes(item.read_bytes())
    path = tmp_path / QUANTIZE
    assert main(["add", str(path), "layer2/layer2.1/Add_output_0_12", "--comment", "mine"]) == 0
    return path


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP, signal.SIGKILL],
                         ids=["SIGTERM", "SIGHUP", "SIGKILL"])
def test_a_stopped_hybrid_run_leaves_the_file_protected(sample, pegasus, signum, capsys):
    before = sample.read_bytes()
    entropy = (sample.parent / "entropy.txt").read_bytes()
    proc = start_hybrid(sample, pegasus)
    wait_for_engine_line(proc)
    engines = engine_pids(proc.pid)
    assert len(engines) >= 2, "no engine (and keeper) under quanted"
    proc.send_signal(signum)
    err = finish(proc)
    for pid in engines:  # the keeper, pegasus and anything pegasus started: all gone
        wait_gone(pid)
        assert not alive(pid)
    index = sample.parent / ".quanted" / "history" / "history.jsonl"
    if signum == signal.SIGKILL:
        assert proc.returncode == -signal.SIGKILL
        capsys.readouterr()
        assert main(["remove", str(sample), "layer2/layer2.1/Add_output_0_12"]) == 1
        assert "quanted recover" in capsys.readouterr().err
        assert main(["recover", str(sample)]) == 0
        assert json.loads(index.read_text().splitlines()[-1])["kind"] == "recovered"
    else:
        assert proc.returncode == 128 + signum, err[-2000:]
        assert f"stopped by {signal.Signals(signum).name}; restored" in err
        last = json.loads(index.read_text().splitlines()[-1])
        assert last["kind"] == "hybrid-cancelled" and last["data"]["signal"] == signum
    assert sample.read_bytes() == before
    assert (sample.parent / "entropy.txt").read_bytes() == entropy
    assert not list(Path(sample.parent / ".quanted").glob("in-progress.*"))
