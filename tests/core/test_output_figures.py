"""Per-output figures, the resolution check and output kinds, on synthetic tensors (the real
engine's tensors are in tests/engine/test_detect_engine.py)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from quanted.core.engine.output_figures import CLASS, VALUES, OutputFigures, parse_overrides, \
    proven_kinds, resolution, resolve_name, sqnr_db
from quanted.core.engine.outputs import OutputsError, compare
from tests.conftest import SAMPLE


def uint8(values: np.ndarray, low: float, high: float) -> np.ndarray:
    """What asymmetric_affine uint8 over [low, high] gives back (dequantized)."""
    scale = (high - low) / 255.0
    zero = round(-low / scale)
    codes = np.clip(np.round(values / scale) + zero, 0, 255)
    return (codes - zero) * scale


def detector_scores(seed: int, outliers: int = 2) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    inputs = []
    for _ in range(4):
        logits = rng.normal(0.0, 2.0, size=64)
        logits[:outliers] = -300.0  # padding anchors a detector drives far below zero
        inputs.append(logits)
    return inputs


def test_an_outlier_stretched_score_head_is_flagged_though_its_cosine_is_fine():
    floats = detector_scores(1)
    low = min(float(f.min()) for f in floats)
    high = max(float(f.max()) for f in floats)
    quantized = [uint8(f, low, high) for f in floats]
    comparisons = [compare(f, q) for f, q in zip(floats, quantized)]
    figures = OutputFigures.of("@scores:out0", VALUES, floats, quantized, comparisons)
    assert figures.min_cosine > 0.9999  # the two -300s carry the cosine
    r = figures.resolution
    assert r.step == pytest.approx((high - low) / 255.0, rel=1e-9)
    assert r.levels is not None and r.levels < 8
    assert r.middle_quantized < 8 and r.middle_float >= 100
    assert r.collapsed and "middle half" in r.why
    assert figures.top1_agree is None and figures.mean_top5_overlap is None
    json.dumps(figures.to_json())


def test_the_same_logits_without_outliers_are_not_flagged():
    floats = detector_scores(1, outliers=0)
    low = min(float(f.min()) for f in floats)
    high = max(float(f.max()) for f in floats)
    r = resolution(floats, [uint8(f, low, high) for f in floats])
    assert not r.collapsed and r.why == "" and r.levels is not None and r.levels > 30


def test_a_collapse_onto_a_few_codes_is_flagged_by_the_distinct_values():
    floats = [np.linspace(0.0, 1.0, 100) ** 8]  # most values near 0, a long tail
    quantized = [np.round(floats[0] * 4) / 4]  # five codes
    r = resolution(floats, quantized)
    assert r.distinct_quantized <= 5 and r.distinct_float == 100
    assert r.collapsed and "distinct quantized values" in r.why


def test_a_constant_output_and_a_float_output_are_not_flagged():
    same = [np.full(10, 0.5)]
    r = resolution(same, same)
    assert not r.collapsed and r.step is None and r.levels is None
    values = [np.random.default_rng(3).normal(size=200)]
    float16 = [v.astype(np.float16).astype(np.float64) for v in values]
    assert not resolution(values, float16).collapsed


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1), st.floats(0.5, 50.0))
def test_uint8_over_about_four_deviations_is_never_flagged(seed, sigma):
    values = [np.random.default_rng(seed).normal(0.0, sigma, size=256)]
    r = resolution(values, [uint8(values[0], -4 * sigma, 4 * sigma)])
    assert not r.collapsed


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1), st.floats(0.5, 5.0))
def test_uint8_stretched_by_a_hundredfold_outlier_is_always_flagged(seed, sigma):
    values = np.random.default_rng(seed).normal(0.0, sigma, size=256)
    values[0] = -100 * sigma * 4
    r = resolution([values], [uint8(values, float(values.min()), 4 * sigma)])
    assert r.collapsed


def test_sqnr_over_every_input():
    f = [np.array([1.0, 2.0]), np.array([3.0])]
    q = [np.array([1.0, 2.5]), np.array([2.0])]
    assert sqnr_db(f, q) == pytest.approx(10 * math.log10(14 / 1.25))
    assert sqnr_db(f, f) is None


def test_kinds_from_the_model_json(tmp_path):
    assert proven_kinds(SAMPLE / "tinynet.json", {"@attach_output/out0_0:out0": (1, 10)}) == {
        "@attach_output/out0_0:out0": CLASS}
    layers = {
        "attach_boxes/out0_0": {"op": "output", "inputs": ["@boxes_3:out0"]},
        "boxes_3": {"op": "reshape", "inputs": ["@conv_5:out0"]},
        "attach_probs/out0_1": {"op": "output", "inputs": ["@probs_2:out0"]},
        "probs_2": {"op": "softmax", "inputs": ["@conv_5:out0"]},
        "conv_5": {"op": "convolution", "inputs": []},
    }
    model = tmp_path / "m.json"
    model.write_text(json.dumps({"Layers": layers}))
    assert proven_kinds(model, {"@attach_boxes/out0_0:out0": (1, 10),
                                "@attach_probs/out0_1:out0": (1, 10)}) == {
        "@attach_boxes/out0_0:out0": VALUES, "@attach_probs/out0_1:out0": CLASS}
    # per-anchor class scores (a softmax over 2 classes for each of 896 anchors): not one class
    assert proven_kinds(model, {"@attach_probs/out0_1:out0": (1, 896, 2)}) == {
        "@attach_probs/out0_1:out0": VALUES}


def test_overrides_and_names():
    outputs = ["@attach_boxes/out0_0:out0", "@attach_scores/out0_1:out0"]
    assert parse_overrides(["1=class", "attach_boxes/out0_0=values"]) == {
        "1": CLASS, "attach_boxes/out0_0": VALUES}
    for bad in ("scores", "scores=probabilities", "=class"):
        with pytest.raises(ValueError, match="NAME=class"):
            parse_overrides([bad])
    for name in ("1", "@attach_scores/out0_1:out0", "attach_scores/out0_1:out0",
                 "attach_scores/out0_1", "@attach_scores/out0_1"):
        assert resolve_name(name, outputs) == outputs[1]
    with pytest.raises(ValueError, match="0: @attach_boxes/out0_0:out0"):
        resolve_name("2", outputs)
    with pytest.raises(OutputsError):
        proven_kinds(SAMPLE / "missing.json", {})


def test_a_class_output_is_never_flagged_and_few_values_are_not_a_collapse():
    probabilities = [np.r_[0.9, np.full(999, 0.1 / 999)]]
    quantized = [np.round(probabilities[0] * 255) / 255]  # the tail collapses onto 0
    assert resolution(probabilities, quantized, judge=False).collapsed is False
    softmax = [np.array([0.05, 0.02, 0.01, 0.6, 0.04, 0.03, 0.005, 0.2, 0.03, 0.015])]
    assert not resolution(softmax, softmax).collapsed  # 9 values, all kept

