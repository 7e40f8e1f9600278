"""The headless CLI: output shapes, exit codes, and nothing written on any error."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from quanted.cli import main
from tests.conftest import REPO, public
from tests.core.docs import v2_doc


@pytest.fixture
def model(tmp_path):
    path = tmp_path / "m_uint8.quantize"
    path.write_text(v2_doc())
    (tmp_path / "entropy.txt").write_text(
        "@c1_8:out0, 0.33684065480617564\n@logits_2:out0, 0.39978088266926476\n"
        "@ghost_9:out0, 0.5\n@c1_8:weight, 0.3993418991818496\n"
    )
    return path


def test_layers_json_has_exactly_the_documented_keys(model, capsys):
    assert main(["layers", str(model), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    keys = {"layer", "tensors", "entropy", "max_entropy", "customized", "converter", "entropy_from"}
    assert all(set(r) == keys for r in rows)
    assert [r["layer"] for r in rows] == [
        "ghost_9", "logits_2", "c1_8", "c2_6", "features/features.9/conv/conv.2/Conv_output_0_8"
    ]
    c1 = rows[2]
    assert c1["tensors"] == ["@c1_8:out0", "@c1_8:weight"]
    assert c1["entropy"] == {"out0": 0.33684065480617564, "weight": 0.3993418991818496}
    assert c1["max_entropy"] == 0.3993418991818496
    assert c1["customized"] is None
    assert rows[0]["tensors"] == []  # in the report, not in the file: kept
    assert rows[3]["max_entropy"] is None and rows[3]["entropy"] == {}


def test_layers_table_and_explicit_entropy_option(model, tmp_path, capsys):
    other = tmp_path / "other.txt"
    other.write_text("@c2_6:out0, 0.9\n")
    assert main(["layers", str(model), "-e", str(other)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["LAYER", "OUT0", "WEIGHT", "MAX", "CUSTOMIZED"]
    assert lines[1].split() == ["c2_6", "0.9000", "-", "0.9000", "-"]


def test_add_defaults_to_i16_and_accepts_tensor_keys(model, capsys):
    assert main(["add", str(model), "@c2_6:out0", "logits_2", "--comment", "from entropy"]) == 0
    text = model.read_text()
    assert "customized_quantize_layers:\n  c2_6: dynamic_fixed_point-i16  # from entropy\n" in text
    assert "  logits_2: dynamic_fixed_point-i16  # from entropy\n" in text
    assert main(["add", str(model), "c2_6", "--qtype", "float16"]) == 0
    assert "  c2_6: float16  # from entropy\n" in model.read_text()
    out = capsys.readouterr().out
    assert "changed c2_6: dynamic_fixed_point-i16 -> float16" in out


def test_add_unknown_layer_or_qtype_writes_nothing(model, capsys):
    before = model.read_bytes()
    assert main(["add", str(model), "c2_6", "/c1_8", "@c2_6:weightz"]) == 1
    err = capsys.readouterr().err
    assert "'/c1_8' is not in quantize_parameters; did you mean 'c1_8'?" in err
    assert main(["add", str(model), "c2_6", "--qtype", "int4"]) == 1
    assert "unknown qtype 'int4'" in capsys.readouterr().err
    assert model.read_bytes() == before


def test_add_a_qtype_the_engine_cannot_apply_warns_but_writes(model, capsys):
    assert main(["add", str(model), "c2_6", "--qtype", "dynamic_fixed_point-i8"]) == 0
    assert "cannot apply" in capsys.readouterr().err
    assert "  c2_6: dynamic_fixed_point-i8\n" in model.read_text()


def test_remove_and_remove_unknown(model, capsys):
    original = model.read_bytes()
    assert main(["add", str(model), "c2_6"]) == 0
    assert main(["remove", str(model), "nope"]) == 1
    assert main(["remove", str(model), "c2_6"]) == 0
    assert model.read_bytes() == original


def test_check_reports_each_problem_on_its_line(tmp_path, capsys):
    path = tmp_path / "m.quantize"
    path.write_text(v2_doc(customized=(
        "customized_quantize_layers:\n"
        "  '@c2_6:out0': dynamic_fixed_point-i16\n"
        "  c1_8: int4\n"
        "  logits_2: dynamic_fixed_point-i8\n"
    )))
    assert main(["check", str(path)]) == 1
    lines = capsys.readouterr().out.splitlines()
    header = v2_doc().splitlines().index("customized_quantize_layers: {}") + 1
    assert lines == [
        f"{path}:{header + 1}: error: layer '@c2_6:out0' is not in quantize_parameters; "
        "that is a tensor key; the layer id is 'c2_6'",
        f"{path}:{header + 2}: error: layer 'c1_8': unknown qtype 'int4' (known: "
        "dynamic_fixed_point-i16, float16, bfloat16, float32, dynamic_fixed_point-i8, "
        "perchannel_symmetric_affine-i8, asymmetric_affine-u8)",
        f"{path}:{header + 3}: warning: layer 'logits_2': qtype 'dynamic_fixed_point-i8': "
        "the 6.x engine inserts a converter but cannot apply it",
    ]


def test_check_clean_file_and_entropy_mismatch(model, capsys):
    (model.parent / "entropy.txt").write_text("@c1_8:out0, 0.3\n")
    assert main(["check", str(model)]) == 0
    assert "ok (4 layers, 0 customized)" in capsys.readouterr().out
    (model.parent / "entropy.txt").write_text("@c1_8:out0, 0.3\n@zz:out0, 0.4\n")
    assert main(["check", str(model)]) == 1
    assert "lists 1 tensor(s) not in this file (first '@zz:out0')" in capsys.readouterr().out


def test_public_legacy_file_checks_clean():
    assert main(["check", str(public("khadas_mobilenet_tf.quantize")), "-e",
                 str(public("khadas_mobilenet_tf_entropy.txt"))]) == 0


@pytest.mark.parametrize("flag", ["--help", "--version"])
def test_help_and_version_exit_0(flag, capsys):
    with pytest.raises(SystemExit) as exc:
        main([flag])
    assert exc.value.code == 0
    assert "quanted" in capsys.readouterr().out


def test_console_script_and_module_entry_points(model):
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    result = subprocess.run([sys.executable, "-m", "quanted", "check", str(model)],
                            capture_output=True, text=True, env=env)
    assert result.returncode == 1, result.stderr
    assert "not in this file (first '@ghost_9:out0')" in result.stdout


def test_did_you_mean_reads_the_layer_index_not_every_key(model, capsys, monkeypatch):
    """add/remove of a typo hint from one TensorIndex: the document's list of every key (and
    its grouping) held 1.8x the file at 150 MB beside its bytes."""
    from quanted.core.document.model import QuantizeDocument

    def no_key_list(doc):
        raise AssertionError("the hint built the document's list of every tensor key")

    monkeypatch.setattr(QuantizeDocument, "tensor_keys", property(no_key_list))
    before = model.read_bytes()
    assert main(["add", str(model), "/c1_8", "logits_3"]) == 1
    err = capsys.readouterr().err
    assert "'/c1_8' is not in quantize_parameters; did you mean 'c1_8'?" in err
    assert "'logits_3' is not in quantize_parameters; did you mean 'logits_2'?" in err
    assert main(["remove", str(model), "logits_3"]) == 1
    assert ("'logits_3' is not in quantize_parameters; did you mean 'logits_2'?, "
            "nor in customized_quantize_layers") in capsys.readouterr().err
    assert model.read_bytes() == before
