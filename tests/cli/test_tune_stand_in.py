"""`quanted tune` end to end against a STAND-IN for pegasus (tests/cli/tune_stand_in.py, whose
cosine is a known function of the raised set): the search logic and its failure modes. The
real engine is in tests/engine/test_tune_engine.py."""

from __future__ import annotations

import contextlib
import json
import os
import pickle
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import Future
from pathlib import Path

import pytest

from quanted.cli import main
from quanted.core.state.history import History
from quanted.core.tune import session
from quanted.core.tune.figures import Target
from tests.cli import tune_stand_in
from tests.conftest import REPO, SAMPLE

CONV2 = "layer3/layer3.0/conv2/Conv_output_0_7"  # entropy rank 1
ADD6 = "layer3/layer3.0/Add_output_0_6"  # 2
FLATTEN = "Flatten_output_0_3"  # 3
AVGPOOL = "avgpool/GlobalAveragePool_output_0_4"  # 4
ADD12 = "layer2/layer2.1/Add_output_0_12"  # 5
RANKED = [CONV2, ADD6, FLATTEN, AVGPOOL, ADD12]
INPUTS = 4  # the sample's dataset listing
FILES = ["tinynet.json", "tinynet.data", "tinynet_inputmeta.yml", "dataset.txt", "entropy.txt",
         "tinynet_uint8.quantize"] + [f"input_{i}.npy" for i in range(INPUTS)]
PEGASUS = f"{sys.executable} {Path(tune_stand_in.__file__)}"


@pytest.fixture
def model(tmp_path, monkeypatch):
    return make_model(tmp_path, monkeypatch)


def make_model(tmp_path: Path, monkeypatch) -> Path:
    """A copy of the sample in tmp_path/model, scratch folders in tmp_path/tmp; the file."""
    folder = tmp_path / "model"
    folder.mkdir()
    for name in FILES:
        shutil.copy(SAMPLE / name, folder / name)
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    return folder / "tinynet_uint8.quantize"


def configure(model: Path, monkeypatch, **conf) -> dict:
    conf.setdefault("spread", 0.001)
    conf["log"] = str(model.parent.parent / "calls.log")
    path = model.parent.parent / "stand-in.json"
    path.write_text(json.dumps(conf))
    monkeypatch.setenv("TUNE_STAND_IN", str(path))
    return conf


def tune(model: Path, capsys, *extra: str) -> tuple[int, dict, str]:
    jobs = [] if "--jobs" in extra else ["--jobs", "1"]  # the trial order these tests check
    code = main(["tune", str(model), "--pegasus", PEGASUS, "--json", *jobs, *extra])
    out, err = capsys.readouterr()
    return code, json.loads(out), err


def worst(layers, conf: dict) -> float:
    return min(tune_stand_in.per_input(set(layers), conf, INPUTS))


def calls(model: Path) -> list[str]:
    return (model.parent.parent / "calls.log").read_text().splitlines()


def test_plain_already_passing_stops_with_the_empty_list(model, monkeypatch, capsys):
    configure(model, monkeypatch, base=0.995)
    code, result, err = tune(model, capsys)
    assert code == 0 and result["met"] is True and result["layers"] == {}
    assert {t["phase"] for t in result["trials"]} == {"bounds"}
    plain, own = result["trials"]  # the file's own list is measured as well
    assert plain["layers"] == [] and plain["min_cosine"] == pytest.approx(0.992)
    assert len(own["layers"]) == 7
    assert "the plain model already meets the target (min cosine 0.992000)" in err
    assert "customized_quantize_layers: {}" in model.read_text()
    quantized = [len(c.split()) - 1 for c in calls(model) if c.startswith("quantize")]
    # the file's list only: the plain trial and the final empty list are the plain table itself
    # (no --hybrid run of an empty list: it can recalibrate), and all-raised is never run
    assert quantized == [7]
    assert list((model.parent.parent / "tmp").iterdir()) == []  # scratch folders are gone


def test_unreachable_target_exits_1_and_writes_nothing(model, monkeypatch, capsys):
    configure(model, monkeypatch, weights={CONV2: 0.3})
    before = model.read_bytes()
    code, result, _err = tune(model, capsys)
    assert code == 1 and result["met"] is False and result["layers"] == {}
    assert [len(t["layers"]) for t in result["trials"]] == [0, 38, 7]
    assert model.read_bytes() == before
    assert not History(model).entries("before-tune")
    assert main(["tune", str(model), "--pegasus", PEGASUS]) == 1
    assert "no layer set reaches it with this qtype" in capsys.readouterr().out


# Raising ADD6 hurts; ADD12 helps alone but not beside FLATTEN: the prefixes' cosines go
# 0.5, 0.8, 0.7, 0.8, 1.0, 1.0, ... (not monotonic).
NON_MONOTONIC = {CONV2: 0.3, ADD6: -0.1, FLATTEN: 0.1, AVGPOOL: 0.2, ADD12: 0.3}
PAIRS = [[FLATTEN, ADD12, -0.3]]


def test_non_monotonic_responses_still_end_1_minimal(model, monkeypatch, capsys):
    conf = configure(model, monkeypatch, weights=NON_MONOTONIC, pairs=PAIRS)
    assert [worst(RANKED[:k], conf) + 0.003 for k in range(6)] == pytest.approx(
        [0.5, 0.8, 0.7, 0.8, 1.0, 1.0])
    code, result, err = tune(model, capsys)
    assert code == 0 and result["met"] is True
    found = set(result["layers"])
    assert worst(found, conf) >= 0.99
    for layer in found:  # 1-minimal under the known function
        assert worst(found - {layer}, conf) < 0.99, layer
    assert found == {CONV2, AVGPOOL}
    most = int(re.search(r"trials in all, at most (\d+)", err)[1])
    assert len(result["trials"]) <= most
    points = {p["count"]: p["min_cosine"] for p in result["points"]}
    assert points[0] == pytest.approx(worst(set(), conf))
    assert points[2] == pytest.approx(0.997)
    # the file: only the customized block changed, new lines say why
    text = model.read_text()
    assert f"  {CONV2}: dynamic_fixed_point-i16\n" in text  # kept as it was (no comment)
    block = text[text.index("customized_quantize_layers:"):]
    assert block.count("dynamic_fixed_point-i16") == 2


def test_a_layer_the_engine_does_not_apply_is_never_a_success(model, monkeypatch, capsys):
    conf = configure(model, monkeypatch, weights={CONV2: 0.5, ADD6: 0.25, AVGPOOL: 0.25},
                     refuse=[CONV2])
    code, result, err = tune(model, capsys)
    assert code == 0 and CONV2 not in result["layers"]
    assert set(result["layers"]) == {ADD6, AVGPOOL}
    first_all, own = result["trials"][1], result["trials"][2]
    assert len(first_all["layers"]) == 38 and first_all["applied"] is False
    assert CONV2 in own["layers"] and own["applied"] is False
    assert first_all["min_cosine"] >= 0.99  # it would "pass" on the figures alone
    assert all(CONV2 not in t["layers"] for t in result["trials"][3:])
    assert f"did not apply dynamic_fixed_point-i16 to {CONV2}" in err
    assert worst({ADD6, AVGPOOL}, conf) >= 0.99
    model.write_bytes((SAMPLE / model.name).read_bytes())  # the same inputs: all reused
    assert main(["tune", str(model), "--pegasus", PEGASUS]) == 0
    out = capsys.readouterr().out
    assert f"NOT APPLIED ({CONV2})" in out and f"left out: {CONV2}" in out


def test_jobs_2_runs_trials_at_the_same_time(model, monkeypatch, capsys):
    # The stand-in's first two quantize calls each wait for the other to start: with one job
    # at a time they would give up (status 9) instead.
    conf = configure(model, monkeypatch, weights=NON_MONOTONIC, rendezvous=2)
    code, result, err = tune(model, capsys, "--jobs", "2")
    assert code == 0, err
    assert set(result["layers"]) == {CONV2, AVGPOOL} and worst(result["layers"], conf) >= 0.99
    assert len(list((model.parent.parent / "rendezvous").iterdir())) == 2


class FakeDaskClient:
    """What tune needs of dask.distributed's Client: submit(fn, *args) -> a future with
    result(). Like dask, it ships the function and its arguments by pickle."""

    def __init__(self) -> None:
        self.submitted: list[str] = []

    def submit(self, fn, *args, **kwargs):
        fn, args, kwargs = pickle.loads(pickle.dumps((fn, args, kwargs)))
        self.submitted.append(fn.__name__)
        return FakeDaskFuture(fn, args, kwargs)


class FakeDaskFuture:
    def __init__(self, fn, args, kwargs) -> None:
        self.value, self.error = None, None
        try:
            self.value = pickle.loads(pickle.dumps(fn(*args, **kwargs)))
        except Exception as exc:  # noqa: BLE001 - handed back by result(), as dask does
            self.error = exc

    def result(self):
        if self.error is not None:
            raise self.error
        return self.value


def test_a_dask_style_executor_runs_the_trials(model, monkeypatch):
    configure(model, monkeypatch, weights=NON_MONOTONIC)
    setup = session.prepare(model, session.Options(Target(0.99), pegasus=PEGASUS))
    client = FakeDaskClient()
    outcome = session.search(setup, executor=client)
    assert not isinstance(client, Future)
    assert outcome.met and outcome.minimal and set(outcome.layers) == {CONV2, AVGPOOL}
    assert client.submitted == ["run_float"] + ["run_trial"] * len(outcome.trials)
    assert model.read_bytes() == (SAMPLE / model.name).read_bytes()  # search writes nothing


def test_dry_run_prints_the_plan_and_writes_nothing(model, monkeypatch, capsys):
    configure(model, monkeypatch)
    assert main(["tune", str(model), "--pegasus", PEGASUS, "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "37 candidate layer(s), ranked by entropy" in out and "at most 6 bisection" in out
    assert f"    1  {CONV2}  (drop=-, entropy=0.7445)" in out
    assert (f"    3  {FLATTEN}  (drop=-, entropy=0.6079; raised with {FLATTEN}_acuity_mark_perm_38"
            " (the engine raises them only together))") in out
    assert not (model.parent / ".quanted").exists()
    assert not (model.parent.parent / "calls.log").exists()


def test_max_trials_stops_with_the_best_passing_set_not_proven_minimal(model, monkeypatch,
                                                                       capsys):
    configure(model, monkeypatch, weights=NON_MONOTONIC)
    code, result, _err = tune(model, capsys, "--max-trials", "4")
    assert code == 0 and len(result["trials"]) == 4
    assert len(result["layers"]) == 19  # the last passing bisection prefix
    assert main(["tune", str(model), "--pegasus", PEGASUS, "--max-trials", "4"]) == 0
    assert "are not proven minimal" in capsys.readouterr().out


def ctrl_c_as_at_a_terminal() -> None:
    """Popen's preexec_fn for a tune the test will ctrl+c: SIGINT back to its default in the
    child. A suite started in the background (`cmd &` without job control) ignores SIGINT,
    every child inherits that, and Python then installs no KeyboardInterrupt at all."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_resume_after_ctrl_c(model, monkeypatch, capsys, tmp_path):
    # the third trial's: the plain trial runs no quantize (its table is the plain one)
    conf = configure(model, monkeypatch, weights=NON_MONOTONIC, hang_on_quantize=2)
    before = model.read_bytes()
    env = {**os.environ, "TMPDIR": str(tmp_path / "tmp"), "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([sys.executable, "-m", "quanted", "tune", str(model), "--pegasus",
                             PEGASUS, "--jobs", "1"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True,
                            preexec_fn=ctrl_c_as_at_a_terminal)
    hang = tmp_path / "hang"
    try:
        deadline = time.monotonic() + 120
        while not hang.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)  # waiting on the file the stand-in writes when the trial runs
        assert hang.exists(), proc.communicate(timeout=30)
        proc.send_signal(signal.SIGINT)
        _out, err = proc.communicate(timeout=60)
        stand_in = Path(f"/proc/{hang.read_text()}")
        left_running = stand_in.exists() and "Z" not in (stand_in / "stat").read_text().split()[2]
    finally:  # a failing test must not leave the tune or the hung stand-in behind
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if hang.exists():
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(hang.read_text()), signal.SIGKILL)
    assert proc.returncode == 130, err
    assert "cancelled" in err and model.read_bytes() == before
    assert list((tmp_path / "tmp").iterdir()) == []
    assert not left_running  # the engine run of the cancelled trial was stopped
    first_run = len(calls(model))

    del conf["hang_on_quantize"]
    (tmp_path / "stand-in.json").write_text(json.dumps(conf))
    code, result, err = tune(model, capsys)
    assert code == 0 and set(result["layers"]) == {CONV2, AVGPOOL}
    assert [t["cached"] for t in result["trials"][:3]] == [True, True, False]
    assert not any(t["cached"] for t in result["trials"][3:])
    again = calls(model)[first_run:]
    # the float outputs and the plain trial were recorded too: the first engine call is the
    # third trial's quantize
    assert again[0].startswith("quantize ")


def test_pruning_starts_from_the_files_own_list_when_it_is_smaller(model, monkeypatch, capsys):
    gemm = "classifier/Gemm_output_0_2"  # 18th by entropy; in the file's list of 7
    conf = configure(model, monkeypatch, weights={gemm: 0.5})
    code, result, err = tune(model, capsys)
    assert code == 0 and result["layers"] == {gemm: "dynamic_fixed_point-i16"}
    assert worst({gemm}, conf) >= 0.99 and worst(set(), conf) < 0.99
    assert "the file's own list (7 layers) meets the target with fewer candidates than the " \
           "prefix (18)" in err
    pruned = [t for t in result["trials"] if t["phase"] == "prune"]
    assert len(pruned) <= 6 + 1  # one per member of the 7 (its 6 candidates), one re-check


def test_the_plan_is_said_once_and_as_the_dry_run_says_it(model, monkeypatch, capsys):
    """The file's own list (7 layers) is a third bound and meets the target with fewer layers
    than the bisection's prefix (18): every line says the same numbers."""
    configure(model, monkeypatch, weights={"classifier/Gemm_output_0_2": 0.5})
    assert main(["tune", str(model), "--pegasus", PEGASUS, "--dry-run"]) == 0
    dry = capsys.readouterr().out
    code, _result, err = tune(model, capsys)
    assert code == 0
    bounds = [line for line in err.splitlines() if "bounds (plain" in line]
    assert len(bounds) == 1 and bounds[0].removeprefix("quanted: ") in dry.splitlines()
    assert "3 bounds (plain, all 37 raised, the file's own list)" in bounds[0]
    assert "then the hybrid run and verify" in bounds[0]
    assert "the pruning starts from 6 layer(s)" in err and "prefix of 6" not in err
    ends = [line for line in err.splitlines() if "] trial " in line and " -> " in line]
    counts = [int(re.search(r" of ~(\d+)", line)[1]) for line in ends]
    assert all(i + 1 <= k for i, k in enumerate(counts[len(counts) - 6:]))  # never "12 of ~10"
