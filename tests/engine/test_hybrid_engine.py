"""`quanted hybrid` against the real engine (acuitylite 6.57.1) on the sample model."""

from __future__ import annotations

import json
import shlex

import pytest

from quanted.cli import main
from quanted.core.document.model import QuantizeDocument
from quanted.core.engine import hybrid
from quanted.core.engine.report import model_layers
from tests.step_cancel import cancel_once_started

QUANTIZE = "tinynet_uint8.quantize"
# The worst-entropy activation the engine did not pre-fill into customized_quantize_layers.
LAYER = "layer2/layer2.1/Add_output_0_12"

pytestmark = pytest.mark.engine


def run_cli(*args: str) -> int:
    return main(["hybrid", *args])


def test_hybrid_applies_a_layer_keeps_the_comment_and_reports(sample, pegasus, capsys):
    assert main(["add", str(sample), LAYER, "--comment", "worst activation not pre-filled"]) == 0
    capsys.readouterr()
    status = run_cli(str(sample), "--pegasus", shlex.join(pegasus), "--json")
    out, err = capsys.readouterr()
    assert status == 0, err[-3000:]
    result = json.loads(out)
    hybrid_model = sample.with_name(QUANTIZE + ".json")
    converters = [name for name in model_layers(hybrid_model) if "_to_" in name]
    assert converters, "the hybrid model has no converter layers"
    assert set(result["report"]["converters"]) >= set(converters)
    doc = QuantizeDocument.open(sample)
    assert doc.tensor_fields(f"@{LAYER}:out0")["qtype"] == "i16"
    line = f"  {LAYER}: dynamic_fixed_point-i16  # worst activation not pre-filled\n"
    assert line in doc.block_text()
    assert result["comments_carried"] == 1
    change = next(c for c in result["report"]["layers"] if c["layer"] == LAYER)
    assert change["tensors"][f"@{LAYER}:out0"] == {"before": "u8", "after": "i16"}
    assert change["entropy_before"] and change["entropy_after"]  # entropy.txt was refreshed
    history = sample.parent / ".quanted" / "history"
    assert any(p.name.endswith(".before-hybrid") for p in history.iterdir())
    # The log went to stderr with --json; it holds the engine's own lines.
    assert "Insert converter layer" in err


def test_a_qtype_the_engine_cannot_apply_is_exit_1_naming_the_layer(sample, pegasus, capsys):
    assert main(["add", str(sample), LAYER, "--qtype", "dynamic_fixed_point-i8"]) == 0
    status = run_cli(str(sample), "--pegasus", shlex.join(pegasus))
    err = capsys.readouterr().err
    assert status == 1
    assert (f"quanted: engine: layer '{LAYER}': Hybrid qtype 'dynamic_fixed_point-i8' "
            "could not be applied") in err


def test_unknown_layer_is_refused_and_with_force_is_exit_1(sample, pegasus, capsys):
    text = sample.read_text().replace(
        "customized_quantize_layers:\n",
        "customized_quantize_layers:\n  no_such_layer_99: dynamic_fixed_point-i16\n"
    )
    sample.write_text(text)
    assert run_cli(str(sample), "--pegasus", shlex.join(pegasus)) == 1
    assert "refusing to run pegasus" in capsys.readouterr().err
    assert sample.read_text() == text  # nothing ran, nothing changed
    assert run_cli(str(sample), "--pegasus", shlex.join(pegasus), "--force") == 1
    err = capsys.readouterr().err
    assert "layer 'no_such_layer_99'" in err and "qnt_insert_converter_layer error" in err


def test_an_unknown_qtype_with_force_names_the_layer(sample, pegasus, capsys):
    text = sample.read_text().replace(
        "customized_quantize_layers:\n", f"customized_quantize_layers:\n  {LAYER}: int4_magic\n"
    )
    sample.write_text(text)
    assert run_cli(str(sample), "--pegasus", shlex.join(pegasus)) == 1  # refused: unknown qtype
    assert "refusing" in capsys.readouterr().err
    assert run_cli(str(sample), "--pegasus", shlex.join(pegasus), "--force", "--json") == 1
    out, err = capsys.readouterr()
    failures = json.loads(out)["failures"]
    kinds = {f["kind"] for f in failures}
    assert "unsupported" in kinds  # "Unsupported quantizer : int4_magic, ..." (exit 0 from pegasus)
    assert all(f["layer"] == LAYER for f in failures), failures


def test_from_a_printed_rebuild_command(sample, pegasus, capsys):
    printed = (
        "pegasus quantize --model tinynet.json --model-data tinynet.data --batch-size 1 "
        "--device CPU --with-input-meta tinynet_inputmeta.yml --rebuild "
        f"--model-quantize {QUANTIZE} --quantizer asymmetric_affine --qtype uint8 "
        "--algorithm normal --iterations 4 --compute-entropy"
    )
    assert main(["add", str(sample), LAYER]) == 0
    assert run_cli(str(sample), "--from-command", printed, "--pegasus", shlex.join(pegasus),
                   "--dry-run") == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    expected = printed.replace("pegasus quantize", "quantize").replace("--rebuild", "--hybrid")
    assert last == shlex.join(pegasus) + " " + expected
    assert run_cli(str(sample), "--from-command", printed, "--pegasus", shlex.join(pegasus)) == 0
    assert QuantizeDocument.open(sample).tensor_fields(f"@{LAYER}:out0")["qtype"] == "i16"


def test_cancelled_run_restores_the_file(sample, pegasus):
    assert main(["add", str(sample), LAYER, "--comment", "keep me"]) == 0
    before = sample.read_bytes()
    plan = hybrid.plan(QuantizeDocument.open(sample), pegasus=shlex.join(pegasus))
    ended = cancel_once_started(
        hybrid.run, plan, lambda line: "Load model" in line or "Set vsinn" in line, 120)
    result = ended.result
    assert ended.exit_code == 130 and result.cancelled and result.status == 130
    assert "cancelled" in result.restored
    assert sample.read_bytes() == before


def test_dry_run_prints_the_zero_config_command(sample, pegasus, capsys):
    assert run_cli(str(sample), "--pegasus", shlex.join(pegasus), "--dry-run") == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert last == shlex.join(pegasus + [
        "quantize", "--model", "tinynet.json", "--model-data", "tinynet.data",
        "--with-input-meta", "tinynet_inputmeta.yml", "--hybrid", "--model-quantize", QUANTIZE,
        "--quantizer", "asymmetric_affine", "--qtype", "uint8", "--iterations", "4",
        "--compute-entropy",
    ])
