"""A two-output, detector-shaped model on the real engine (tests/engine/build_detnet.py: a box
head and a score head whose range two outlier anchors stretch): verify's per-output figures
against numpy on the engine's own dump files, the resolution flag on the collapsed score
head, `tune --check` with examples/check_scores.py, and an independent `verify --check` that
confirms its set and fails the plain file.

Engine runs: import, inputmeta, quantize (module fixture); 2 inferences; the tune's float run,
3 trials, its hybrid run and verify (3 inferences); 3 inferences: about 5 minutes on a loaded
2-core machine."""

import json
import math
import re
import shlex
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from quanted.cli.dispatch import main
from quanted.core.document.model import QuantizeDocument
from quanted.core.engine import verify
from quanted.core.engine.taskcheck import TaskCheck
from quanted.core.state.history import History

pytestmark = pytest.mark.engine

HERE = Path(__file__).resolve().parent
CHECK = HERE.parents[1] / "examples" / "check_scores.py"
BOXES, SCORES = "@attach_boxes/out0_0:out0", "@attach_scores/out0_1:out0"
INPUTS = 4
TOL = 1e-6


def _engine(pegasus, args, cwd):
    proc = subprocess.run(pegasus + args, cwd=cwd, stdout=subprocess.PIPE, check=False,
                          stderr=subprocess.STDOUT, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:]


@pytest.fixture(scope="module")
def detnet(pegasus, tmp_path_factory):
    python = Path(pegasus[0]).with_name("python")
    if not python.is_file():
        pytest.skip("needs the engine environment's python to build detnet.onnx")
    folder = tmp_path_factory.mktemp("detnet")
    subprocess.run([str(python), str(HERE / "build_detnet.py"), str(folder)], check=True,
                   timeout=300)
    _engine(pegasus, ["import", "onnx", "--model", "detnet.onnx", "--output-model",
                      "detnet.json", "--output-data", "detnet.data"], folder)
    _engine(pegasus, ["generate", "inputmeta", "--model", "detnet.json",
                      "--input-meta-output", "detnet_inputmeta.yml"], folder)
    _engine(pegasus, ["quantize", "--model", "detnet.json", "--model-data", "detnet.data",
                      "--with-input-meta", "detnet_inputmeta.yml", "--rebuild",
                      "--compute-entropy", "--model-quantize", "detnet_uint8.quantize",
                      "--quantizer", "asymmetric_affine", "--qtype", "uint8", "--iterations",
                      str(INPUTS)], folder)
    return folder / "detnet_uint8.quantize"


def _dumps(folder: Path, tensor: str) -> list[np.ndarray]:
    """The engine's dump files of one output, by iteration, read with numpy alone."""
    stem = re.sub(r"[^A-Za-z0-9_]", "_", tensor.lstrip("@"))
    found = {}
    for path in folder.glob(f"iter_*_{stem}_*.tensor"):
        if path.name.endswith(".qnt.tensor"):
            continue
        found[int(path.name.split("_")[1])] = np.loadtxt(path, dtype=np.float64, ndmin=1)
    return [found[i] for i in sorted(found)]


def _reference(f: list[np.ndarray], q: list[np.ndarray]) -> dict:
    cos = [float(a @ b / np.linalg.norm(a) / np.linalg.norm(b)) for a, b in zip(f, q)]
    fa, qa = np.concatenate(f), np.concatenate(q)
    unique = np.unique(qa)
    step = float(np.min(np.diff(unique)))
    low, high = np.percentile(fa, [25, 75])
    middle = (fa >= low) & (fa <= high)
    return {"min_cosine": min(cos), "mean_cosine": sum(cos) / len(cos),
            "sqnr_db": 10 * math.log10(float(np.sum(fa ** 2)) / float(np.sum((fa - qa) ** 2))),
            "max_abs_error": float(np.max(np.abs(fa - qa))),
            "distinct_float": np.unique(fa).size, "distinct_quantized": unique.size,
            "middle_float": np.unique(fa[middle]).size,
            "middle_quantized": np.unique(qa[middle]).size,
            "step": step, "spread": float(high - low), "levels": float(high - low) / step}


def _assert_figures(figures, want: dict) -> None:
    r = figures.resolution
    got = {"min_cosine": figures.min_cosine, "mean_cosine": figures.mean_cosine,
           "sqnr_db": figures.sqnr_db, "max_abs_error": figures.max_abs_error,
           "distinct_float": r.distinct_float, "distinct_quantized": r.distinct_quantized,
           "middle_float": r.middle_float, "middle_quantized": r.middle_quantized,
           "step": r.step, "spread": r.spread, "levels": r.levels}
    for name, value in want.items():
        assert got[name] == pytest.approx(value, abs=TOL, rel=TOL), name


def test_per_output_figures_equal_numpy_and_the_score_head_collapses(detnet, pegasus,
                                                                      tmp_path):
    check = TaskCheck.parse(f"{shlex.quote(sys.executable)} {shlex.quote(str(CHECK))}")
    kept = tmp_path / "dumps"
    plan = verify.plan(QuantizeDocument.open(detnet), shlex.join(pegasus), INPUTS,
                       workdir=kept, check=check)
    result = verify.run(plan)
    assert result.tensors == [BOXES, SCORES]
    assert result.kinds == {BOXES: "values", SCORES: "values"}  # no softmax feeds them
    assert result.shapes == {BOXES: (1, 4, 64), SCORES: (1, 64)}
    for tensor in result.tensors:
        f, q = _dumps(kept / "float", tensor), _dumps(kept / "quantized", tensor)
        assert len(f) == len(q) == INPUTS
        _assert_figures(result.outputs[tensor], _reference(f, q))
    scores, boxes = result.outputs[SCORES], result.outputs[BOXES]
    # the cosine cannot see it: the two -300 anchors carry it
    assert scores.min_cosine > 0.9999
    assert scores.resolution.collapsed and scores.resolution.middle_quantized <= 4
    assert not boxes.resolution.collapsed
    assert result.summary().top1_count == 0  # no class output: no top-1 anywhere
    verdict = result.checks[verify.QUANTIZED]
    assert not verdict.acceptable and verdict.metric is not None and verdict.metric > 0.1
    # the check's folders held what the protocol promises (kept with the workdir)
    described = json.loads((kept / "check" / "float" / "outputs.json").read_text())
    assert [o["source"] for o in described["outputs"]] == ["boxes", "scores"]
    assert described["dataset"] == [f"input_{i}.npy" for i in range(INPUTS)]
    saved = np.load(kept / "check" / "quantized" / "2" / "attach_scores_out0_1.npy")
    assert saved.shape == (1, 64) and saved.dtype == np.float32
    assert np.allclose(saved.ravel(), _dumps(kept / "quantized", SCORES)[2], atol=1e-6)


def test_tune_check_finds_a_set_that_an_independent_verify_check_confirms(detnet, pegasus,
                                                                         capsys, monkeypatch):
    monkeypatch.setenv("QUANTED_PEGASUS", shlex.join(pegasus))
    # the engine's own list: the score head's Add and its output layer
    assert set(QuantizeDocument.open(detnet).customized) == {"scores_2", "attach_scores/out0_1"}
    check = f"{shlex.quote(sys.executable)} {shlex.quote(str(CHECK))}"
    # the bounds alone (plain, all raised, the file's own list): the budget keeps it short, so
    # the set is the passing bound, not proven minimal (the full search, 9 trials, ends with
    # the engine's own two layers; the search itself is tested with a stand-in)
    assert main(["tune", str(detnet), "--check", check, "--max-trials", "3", "--json"]) == 0
    tuned = json.loads(capsys.readouterr().out)
    assert tuned["met"] is True and tuned["target"]["cosine"] is None
    plain, every, own = tuned["trials"]
    assert set(tuned["layers"]) == set(every["layers"])
    assert plain["layers"] == [] and plain["check"]["acceptable"] is False
    assert every["check"]["acceptable"] and own["check"]["acceptable"]
    # the tune's final verify (the hybrid run in the user's folder) judged it with the check
    final = History(detnet).entries("verify")[-1].data
    assert final["check"]["quantized"]["acceptable"] is True

    # an independent `verify --check`: acceptable now, not on the plain file from before
    assert main(["verify", str(detnet), "--quiet", "--json", "--check", check]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["check"]["quantized"]["acceptable"] is True
    assert result["check"]["plain_quantized"]["acceptable"] is False
    after = result["outputs"][SCORES]["quantized"]
    before = result["outputs"][SCORES]["plain_quantized"]
    assert before["resolution"]["collapsed"] and not after["resolution"]["collapsed"]
    assert after["sqnr_db"] > before["sqnr_db"] + 10
