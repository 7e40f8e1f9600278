"""A two-output, detector-shaped model on the real engine (tests/engine/build_detnet.py: a box
head and a score head whose range two outlier anchors stretch): verify's per-output figures
against numpy on the engine's own dump files, the resolution flag on the collapsed score
head, `tune --check` with examples/check_scores.py, and an independent `verify --check` that
confirms its set and fails the plain file.

Engine runs: import, inputmeta, quantize (module fixture); 2 inferences; the tune's float run,
3 trials, its hybrid run and verify (3 inferences); 3 inferences: about 5 minutes on a loaded
2-core machine."""

import json
import shlex
import sys
from pathlib import Path

import numpy as np
import pytest

from quanted.cli.dispatch import main
from quanted.core.document.model import QuantizeDocument
from quanted.core.engine import verify
from quanted.core.engine.taskcheck import TaskCheck
from quanted.core.state.history import History

from output_reference import assert_same, flat, numpy_figures, tensor_dumps

pytestmark = pytest.mark.engine

HERE = Path(__file__).resolve().parent
CHECK = HERE.parents[1] / "examples" / "check_scores.py"
BOXES, SCORES = "@attach_boxes/out0_0:out0", "@attach_scores/out0_1:out0"
INPUTS = 4


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
        f, q = tensor_dumps(kept / "float", tensor), tensor_dumps(kept / "quantized", tensor)
        assert len(f) == len(q) == INPUTS
        assert_same(flat(result.outputs[tensor]), numpy_figures(f, q))
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
    assert np.allclose(saved.ravel(), tensor_dumps(kept / "quantized", SCORES)[2], atol=1e-6)


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
