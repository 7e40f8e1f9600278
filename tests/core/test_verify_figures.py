"""`quanted verify` without the engine: reading dumped .tensor files, matching them to the
model's outputs, the figures, and picking the best attempt."""

from __future__ import annotations

import json

import numpy as np
import pytest

from quanted.core.engine.attempts import VerifyAttempt, best
from quanted.core.engine.outputs import (OutputsError, VerifySummary, compare, cosine, find_dumps,
                                         fold,
                                         max_abs_error, model_io, read_tensor, top_k, top_overlap)
from tests.conftest import SAMPLE


def write(path, values):
    path.write_text("".join(f"{v!r}\n" for v in values))
    return path


def test_read_tensor_one_number_per_line(tmp_path):
    path = tmp_path / "t.tensor"
    path.write_text("0.0336337648332119\n-1e-05\n\n7\n")
    assert read_tensor(path).tolist() == [0.0336337648332119, -1e-05, 7.0]


@pytest.mark.parametrize("text, why", [("", "empty"), ("0.1\nabc\n", "one number per line")])
def test_read_tensor_rejects_garbage(tmp_path, text, why):
    path = tmp_path / "t.tensor"
    path.write_text(text)
    with pytest.raises(OutputsError, match=why):
        read_tensor(path)


def test_model_io_of_the_sample():
    outputs, inputs = model_io(SAMPLE / "tinynet.json")
    assert outputs == ["@attach_output/out0_0:out0"]
    assert inputs == ["@input_37:out0"]


def test_dumps_are_matched_to_output_keys_and_inputs_skipped(tmp_path):
    names = [
        "iter_0_attach_output_out0_0_out0_1_10.tensor",
        "iter_1_attach_output_out0_0_out0_1_10.tensor",
        "iter_0_input_37_out0_1_3_32_32.tensor",
        "iter_0_input_37_out0_1_3_32_32.qnt.tensor",
        # a second output whose id holds '/' and '.', and one whose name extends the first
        "iter_0_head_box.1_out0_0_out0_1_4.tensor",
        "iter_0_attach_output_out0_0_x_out0_2.tensor",
    ]
    for name in names:
        write(tmp_path / name, [0.5])
    keys = ["@attach_output/out0_0:out0", "@head/box.1/out0_0:out0", "@attach_output/out0_0_x:out0"]
    dumps = find_dumps(tmp_path, keys)
    assert [(d.iteration, d.shape, d.path.name) for d in dumps[keys[0]]] == [
        (0, (1, 10), names[0]), (1, (1, 10), names[1])]
    assert [(d.shape, d.path.name) for d in dumps[keys[1]]] == [((1, 4), names[4])]
    assert [(d.shape, d.path.name) for d in dumps[keys[2]]] == [((2,), names[5])]
    assert fold("@head/box.1/out0_0:out0") == "head_box_1_out0_0_out0"


def test_an_output_without_dumps_is_an_error(tmp_path):
    write(tmp_path / "iter_0_input_37_out0_1_3_32_32.tensor", [1.0])
    with pytest.raises(OutputsError, match="no tensor for the model output"):
        find_dumps(tmp_path, ["@attach_output/out0_0:out0"])


def test_figures_on_hand_made_tensors(tmp_path):
    ref = read_tensor(write(tmp_path / "f.tensor", [0.1, 0.6, 0.05, 0.2, 0.0, 0.03, 0.02]))
    other = read_tensor(write(tmp_path / "q.tensor", [0.2, 0.5, 0.0, 0.2, 0.05, 0.03, 0.02]))
    expected = float(np.dot(ref, other) / np.linalg.norm(ref) / np.linalg.norm(other))
    assert cosine(ref, other) == pytest.approx(expected)
    assert cosine(ref, ref) == pytest.approx(1.0)
    assert max_abs_error(ref, other) == pytest.approx(0.1)
    assert top_k(ref) == [(1, 0.6), (3, 0.2), (0, 0.1), (2, 0.05), (5, 0.03)]
    # ties keep the lower class first
    assert top_k(other) == [(1, 0.5), (0, 0.2), (3, 0.2), (4, 0.05), (5, 0.03)]
    assert top_overlap(top_k(ref), top_k(other)) == pytest.approx(4 / 5)
    c = compare(ref, other)
    assert c.top1 and c.top5_overlap == pytest.approx(0.8) and c.top5 == top_k(other)
    assert not compare(ref, np.array([0.9, 0.0, 0, 0, 0, 0, 0])).top1


def test_cosine_edge_cases():
    zeros = np.zeros(3)
    assert cosine(zeros, zeros) == 1.0
    assert cosine(zeros, np.ones(3)) == 0.0
    with pytest.raises(OutputsError, match="different sizes"):
        cosine(np.ones(3), np.ones(4))
    assert top_k(np.array([0.3, 0.7])) == [(1, 0.7), (0, 0.3)]  # fewer than 5 classes


def test_summary_and_json_friendliness():
    figures = {"@o:out0": [compare(np.array([1.0, 0.0]), np.array([1.0, 0.0])),
                           compare(np.array([1.0, 0.0]), np.array([0.0, 1.0]))]}
    s = VerifySummary.of(figures).to_json()
    assert s == {"count": 2, "mean_cosine": 0.5, "min_cosine": 0.0, "max_abs_error": 1.0,
                 "top1_agree": 1, "top1_agreement": 0.5, "mean_top5_overlap": 1.0,
                 "top1_count": 2}
    json.dumps(s)  # plain floats and ints
    values_only = VerifySummary.of(figures, classes=[])
    assert values_only.top1_count == 0 and values_only.top1_agreement is None
    assert "top-1" not in values_only.line("quantized")


def attempt(time, cosine_value, iterations=1, top1=1.0):
    summary = {"mean_cosine": cosine_value, "top1_agreement": top1, "top1_agree": 1, "count": 1}
    return VerifyAttempt(time, {}, iterations, summary, None, {})


def test_best_attempt_compares_like_with_like():
    a, b, c = attempt("20260101-000000-0", 0.95), attempt("20260101-000001-0", 0.99), \
        attempt("20260101-000002-0", 0.97)
    assert best([a, b, c]) is b
    d = attempt("20260101-000003-0", 0.90, iterations=4)
    assert best([a, b, c, d]) is d  # only d was made over the newest's 4 inputs
    assert best([a, b, c, d], iterations=1) is b  # the editor's field asks for 1 input
    assert best([a, b, c, d], iterations=2) is None  # none was made over 2
    tie = attempt("20260101-000004-0", 0.99)
    assert best([b, tie]) is tie  # ties go to the newest
    assert best([]) is None
    assert "<- best" in b.line(True) and b.line(True).startswith("* 2026-01-01 00:00:01")
