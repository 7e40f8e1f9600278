"""Converter layers are recognised by the names the 6.57 engine gives them,
and TensorFlow's start-up lines are told from the engine's own (item 7)."""

from __future__ import annotations

import pytest

from quanted.core.engine.noise import KeptLog, is_noise
from quanted.core.document.layers import LayerRow, candidates, is_converter


@pytest.mark.parametrize("layer", [
    # all seen in NAME_uint8.quantize.json (`op: dtype_converter`) after engine hybrid runs
    "layer3/layer3.0/Add_output_0_6_pre_asymmetric_affineu8_to_dynamic_fixed_pointi16_41",
    "classifier/Gemm_output_0_2_next_dynamic_fixed_pointi16_to_asymmetric_affineu8_43",
    "layer2/layer2.1/Add_output_0_12_pre_asymmetric_affineu8_to_float16float16_43",
    "layer2/layer2.1/Add_output_0_12_next_float16float16_to_asymmetric_affineu8_46",
    "c2_6_pre_asymmetric_affineu8_to_dynamic_fixed_pointi16_12",
])
def test_converter_ids(layer):
    assert is_converter(layer)


@pytest.mark.parametrize("layer", [
    "layer3/layer3.0/Add_output_0_6", "Flatten_output_0_3_acuity_mark_perm_38",
    "pre_to_post_3", "model/next_float_to_int_2", "c2_6_pre_asymmetric_affineu8_to_x",
])
def test_other_ids_are_not_converters(layer):
    assert not is_converter(layer)


def test_candidates_skip_converters_and_layers_not_in_the_file():
    rows = [
        LayerRow("a", ["@a:out0"], {"out0": 0.3}),
        LayerRow("b", ["@b:out0"], {"out0": 0.9}, converter=True),
        LayerRow("c", [], {"out0": 0.8}, in_file=False),
        LayerRow("d", ["@d:out0"], {"out0": 0.5}),
        LayerRow("e", ["@e:out0"]),
    ]
    assert [r.layer for r in candidates(rows)] == ["d", "a"]
    assert [r.layer for r in candidates(rows, above=0.4)] == ["d"]
    assert [r.layer for r in candidates(rows, top=1)] == ["d"]


def test_tune_never_ranks_a_converter():
    """tune adds its candidates in bulk: a converter of an earlier hybrid run is not one."""
    from quanted.core.document.model import QuantizeDocument
    from quanted.core.tune.rank import candidates as tune_candidates
    from tests.core.docs import v2_doc

    converter = "c2_6_pre_asymmetric_affineu8_to_dynamic_fixed_pointi16_12"
    doc = QuantizeDocument(v2_doc(layers=("c1_8", converter, "c2_6")).encode())
    assert tune_candidates(doc) == ["c1_8", "c2_6"]


@pytest.mark.parametrize("line, noise", [
    (("2026-11-27 04:41:43.539305: E external/local_xla/xla/stream_executor/cuda/cuda_dnn.cc:8454]"
      " Unable to register cuDNN factory: Attempting to register factory"), True),
    ("2024-05-01 10:00:00.000001: I tensorflow/core/util/port.cc:113] oneDNN custom operations",
     True),
    ("E0000 00:00:1732689703.509243   12345 cuda_blas.cc:1418] Unable to register cuBLAS factory",
     True),
    ("WARNING: All log messages before absl::InitializeLog() is called are written to STDERR",
     True),
    ("E 10:00:02 Inference failed: out of memory", False),
    ("\x1b[33mW 07:01:06 Hybrid qtype 'float16' could not be applied for layer 'c2_6'\x1b[0m",
     False),
])
def test_noise(line, noise):
    assert is_noise(line) is noise


def test_kept_log_keeps_every_line_and_passes_on_the_rest(tmp_path):
    quantize = tmp_path / "m.quantize"
    seen: list[str] = []
    log = KeptLog(quantize, "verify", seen.append)
    log("E0000 00:00:1732689703.509243   12345 cuda_blas.cc:1418] Unable to register cuBLAS")
    log("\x1b[32mI 10:00:00 Start\x1b[0m")
    log.close()
    assert seen == ["\x1b[32mI 10:00:00 Start\x1b[0m"] and log.hidden == 1
    assert log.path.parent == tmp_path / ".quanted" / "logs"
    assert log.path.read_text().splitlines()[1] == "I 10:00:00 Start"
    assert log.describe() == f"engine log: {log.path} (1 TensorFlow start-up line hidden)"


def test_an_unwritable_folder_logs_to_a_temporary_file(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    (folder / ".quanted").write_text("not a folder")  # mkdir of .quanted/logs fails
    log = KeptLog(folder / "m.quantize", "hybrid", lambda line: None)
    log("I 10:00:00 x")
    log.close()
    assert folder not in log.path.parents and log.path.read_text() == "I 10:00:00 x\n"
    log.path.unlink()
