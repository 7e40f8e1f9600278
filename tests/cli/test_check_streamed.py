"""`quanted check` keeps the table's keys as a TensorIndex and reads the entropy report a piece
at a time after the file's bytes are let go: it reports what check(doc, whole report) reports,
in the same order, and says the same when the report cannot be read."""

from __future__ import annotations

from pathlib import Path

import pytest

from quanted.cli.dispatch import main
from quanted.core.document.model import QuantizeDocument
from quanted.core.format.entropy import EntropyReport
from quanted.core.format.validate import check
from tests.conftest import public
from tests.core.docs import V2_HEADER, v2_tensor


def _generated(folder: Path, customized: int) -> tuple[Path, Path]:
    """Repeated and odd tensor keys, unknown customized layers (one by one, or many against
    the index), a near miss, and a report naming tensors the file lacks, past a piece."""
    layers = [f"blk:{i}/conv_{i}" for i in range(60)]
    keys = [f"@{layer}:{port}" for layer in layers for port in ("out0", "weight")]
    keys += ["@blk:1/conv_1:out0", "plain:out0", "@lonely", "@blk:1/conv_1:out0"]
    custom = "".join(f"  gone_{i}: float16\n" for i in range(customized))
    custom += "  blk:2/conv_2: int4\n  blk:3/conv_: float16\n  '@blk:4/conv_4:out0': float16\n"
    quantize = folder / "gen_uint8.quantize"
    quantize.write_text(V2_HEADER + "".join(v2_tensor(k) for k in keys)
                        + "customized_quantize_layers:\n" + custom
                        + "stable_quantize_tensors: {}\n")
    lines = [f"@{layer}:out0, 0.25" for layer in layers] * 1500  # a report of a few pieces
    lines += ["@nowhere:out0, 0.5", "@blk:1/conv_1:bias, 0.1", "plain:out0, 0.2"]
    entropy = folder / "entropy.txt"
    entropy.write_text("\n".join(lines) + "\n")
    return quantize, entropy


def _expected(quantize: Path, entropy: Path) -> list[str]:
    doc = QuantizeDocument.open(quantize)
    return [p.format(str(quantize)) for p in check(doc, EntropyReport.read(entropy))]


@pytest.mark.parametrize("customized", [0, 20])
def test_check_reports_what_the_whole_report_check_reports(tmp_path, capsys, customized):
    quantize, entropy = _generated(tmp_path, customized)
    expected = _expected(quantize, entropy)
    assert main(["check", str(quantize), "-e", str(entropy)]) == 1
    assert capsys.readouterr().out.splitlines() == expected
    messages = "\n".join(expected)
    assert messages.count("appears more than once") == 2
    assert "2 tensor key(s) not of the form '@LAYER:PORT', first 'plain:out0'" in messages
    assert "lists 2 tensor(s) not in this file (first '@nowhere:out0')" in messages
    assert "did you mean 'blk:3/conv_3'?" in messages
    assert "that is a tensor key; the layer id is 'blk:4/conv_4'" in messages
    assert messages.count("is not in quantize_parameters") == customized + 2


def test_a_clean_public_file_checks_as_before(capsys):
    quantize = public("khadas_mobilenet_tf.quantize")
    entropy = public("khadas_mobilenet_tf_entropy.txt")
    assert _expected(quantize, entropy) == []
    doc = QuantizeDocument.open(quantize)
    assert main(["check", str(quantize), "-e", str(entropy)]) == 0
    assert capsys.readouterr().out == (f"{quantize}: ok ({len(doc.layer_names())} layers, "
                                       f"{len(doc.customized)} customized)\n")


def test_an_unreadable_report_is_exit_2_with_nothing_on_stdout(tmp_path, capsys):
    quantize, entropy = _generated(tmp_path, 0)
    entropy.write_bytes(entropy.read_bytes() + b"@x:out0 0.1\n")
    assert main(["check", str(quantize), "-e", str(entropy)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith(f"quanted: error: {entropy}:") and "expected 'TENSOR_KEY, VALUE'" in err
