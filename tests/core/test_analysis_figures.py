"""The figures, the clamp range, `drop`, and the probe files' mapping, on hand-made data."""

from __future__ import annotations

import math

import numpy as np
import pytest

from quanted.cli.analyze_command import bar, sort_layers
from quanted.core.engine import probes
from quanted.core.engine.layer_figures import LayerFigures, clamp_range, figures, set_drops


def test_figures_against_direct_numpy():
    rng = np.random.default_rng(1)
    floats = [rng.normal(size=(1, 3, 4)).astype(np.float32) for _ in range(3)]
    quants = [(np.round(f * 4) / 4).astype(np.float32) for f in floats]
    got = figures("l_1", "out0", floats, quants)
    f64 = [f.astype(np.float64).ravel() for f in floats]
    q64 = [q.astype(np.float64).ravel() for q in quants]
    cos = [float(a @ b / np.linalg.norm(a) / np.linalg.norm(b)) for a, b in zip(f64, q64)]
    assert got.cosine == pytest.approx(np.mean(cos), abs=1e-12)
    assert got.cosine_min == pytest.approx(min(cos), abs=1e-12)
    assert got.cosine_raw == got.cosine and not got.clamped
    noise = sum(float(((a - b) ** 2).sum()) for a, b in zip(f64, q64))
    signal = sum(float((a ** 2).sum()) for a in f64)
    assert got.sqnr_db == pytest.approx(10 * math.log10(signal / noise), abs=1e-9)
    assert got.max_abs_error == pytest.approx(max(np.abs(a - b).max() for a, b in zip(f64, q64)))


def test_clamped_reference_and_equal_tensors():
    f = np.array([-3.0, -1.0, 0.5, 2.0, 9.0], dtype=np.float32)
    q = np.array([0.0, 0.0, 0.5, 2.0, 6.0], dtype=np.float32)
    got = figures("c_2", "out0", [f], [q], ((0.0, 6.0), "min_max"))
    assert got.clamped and got.clamp_range == (0.0, 6.0) and got.clamp_source == "min_max"
    assert got.cosine == pytest.approx(1.0) and got.max_abs_error == 0.0
    assert got.sqnr_db is None  # equal: no finite SQNR
    assert got.cosine_raw < 0.99
    zeros = figures("z_3", "out0", [np.zeros(4)], [np.zeros(4)])
    assert zeros.cosine == 1.0 and zeros.sqnr_db is None


def test_clamp_range_from_min_max_or_from_the_quantizer():
    assert clamp_range({"min_value": "0.0", "max_value": "6.5"}) == ((0.0, 6.5), "min_max")
    assert clamp_range({"qtype": "u8", "quantizer": "asymmetric_affine", "scale": "0.5",
                        "zero_point": "10"}) == ((-5.0, 122.5), "qtype")
    assert clamp_range({"qtype": "i16", "quantizer": "dynamic_fixed_point", "fl": "12"}) == (
        (-32768 / 4096, 32767 / 4096), "qtype")
    assert clamp_range({"qtype": "i8", "quantizer": "symmetric_affine", "scale": "0.1"}) == (
        pytest.approx((-12.8, 12.7)), "qtype")
    # An i16 tensor's min/max are calibration figures, not where its values saturate.
    assert clamp_range({"qtype": "i16", "quantizer": "dynamic_fixed_point", "fl": "11",
                        "min_value": "0.0", "max_value": "14.2"}) == ((-16.0, 32767 / 2048),
                                                                       "qtype")
    assert clamp_range({"qtype": "bf16", "quantizer": "bfloat16"}) is None
    assert clamp_range({"qtype": "i8", "quantizer": "perchannel_symmetric_affine",
                        "scale": ""}) is None


def _item(layer, cosine, port="out0"):
    return LayerFigures(layer, port, cosine, cosine, cosine, False, None, 0.0)


def test_drop_is_lowest_producer_cosine_minus_own():
    items = [_item("in_1", 0.99), _item("a_2", 0.98), _item("b_3", 0.95), _item("add_4", 0.90),
             _item("lone_5", 0.5)]
    set_drops(items, {"a_2": [("in_1", "out0")], "b_3": [("in_1", "out0")],
                      "add_4": [("a_2", "out0"), ("b_3", "out0")],
                      "lone_5": [("gone_9", "out0")]})
    drop = {item.layer: item.drop for item in items}
    assert drop["in_1"] == pytest.approx(0.01)  # fed by the exact float input
    assert drop["a_2"] == pytest.approx(0.01)
    assert drop["add_4"] == pytest.approx(0.05)  # min(0.98, 0.95) - 0.90
    assert drop["lone_5"] is None  # a producer has no figures
    assert items[3].producers == ["a_2", "b_3"]


def test_probes_get_fresh_uids_and_skip_output_layers():
    model = {"Layers": {
        "x/y_3": {"op": "input", "outputs": ["out0"]},
        "x_y_12": {"op": "split", "inputs": ["@x/y_3:out0"], "outputs": ["out0", "out1"]},
        "attach_x/out0_7": {"op": "output", "inputs": ["@x_y_12:out0"]},
    }}
    found = probes.add_probes(model)
    assert [(p.uid, p.layer, p.port) for p in found] == [
        (13, "x/y_3", "out0"), (14, "x_y_12", "out0"), (15, "x_y_12", "out1")]
    assert model["Layers"]["quanted_probe_14"]["inputs"] == ["@x_y_12:out0"]
    assert model["Layers"]["quanted_probe_14"]["op"] == "output"


def test_probe_files_map_by_uid_not_by_name(tmp_path):
    listed = [probes.Probe(13, "x/y_3", "out0"), probes.Probe(14, "x_y_3", "out0")]
    for i in range(2):
        for uid in (13, 14):
            np.save(tmp_path / f"iter_{i}_quanted_probe_{uid}_out0_1_2.npy", np.zeros(2))
    np.save(tmp_path / "iter_0_quanted_probe_1_out0_1_2.npy", np.zeros(2))  # a model output
    np.save(tmp_path / "iter_0_input_1_out0_1_2.qnt.npy", np.zeros(2))
    found = probes.probe_files(tmp_path, listed, 2)
    assert {p.layer: [f.name for f in files] for p, files in found.items()} == {
        "x/y_3": ["iter_0_quanted_probe_13_out0_1_2.npy", "iter_1_quanted_probe_13_out0_1_2.npy"],
        "x_y_3": ["iter_0_quanted_probe_14_out0_1_2.npy", "iter_1_quanted_probe_14_out0_1_2.npy"],
    }
    (tmp_path / "iter_1_quanted_probe_14_out0_1_2.npy").unlink()
    with pytest.raises(probes.DumpError, match="1 of 2 inputs"):
        probes.probe_files(tmp_path, listed, 2)


def test_sorting_and_bars():
    items = [_item("a_1", 0.9), _item("b_2", 0.8), _item("c_3", 0.95)]
    items[0].drop, items[1].drop, items[2].drop = 0.05, None, 0.1
    assert [i.layer for i in sort_layers(items, "drop", {})] == ["c_3", "a_1", "b_2"]
    assert [i.layer for i in sort_layers(items, "cosine", {})] == ["b_2", "a_1", "c_3"]
    assert [i.layer for i in sort_layers(items, "entropy", {"b_2": 0.7, "c_3": 0.2})] == [
        "b_2", "c_3", "a_1"]
    assert bar(0.1, 0.1, 4) == "████" and bar(0.05, 0.1, 4) == "██"
    assert bar(None, 0.1) == "" and bar(-0.01, 0.1) == ""
