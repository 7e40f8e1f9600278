"""`add` and `remove` on a file with a top-level key between the tensor table and the
customized block: the same output and bytes as a fully scanned document gives, and a
tensor-like key outside the table never passes for a layer."""

from __future__ import annotations

import pytest

from quanted.cli import main
from quanted.core.format import scanner
from quanted.core.document.model import QuantizeDocument
from tests.core.docs import v2_doc, v2_tensor

# `other` holds a tensor-like key for a layer `z` that is not in quantize_parameters.
SKIPPED = v2_doc(layers=("a", "b"), customized=(
    "other:\n" + v2_tensor("@z:out0") + "customized_quantize_layers:\n  a: float16  # kept\n"))


@pytest.fixture
def model(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))  # no verdict from elsewhere
    path = tmp_path / "m_uint8.quantize"
    path.write_text(SKIPPED)
    return path


def expected_after(path, edit) -> bytes:
    """The bytes the fully scanned document gives for the same edit."""
    doc = QuantizeDocument(path.read_bytes(), path, full=True)
    edit(doc)
    return doc.to_bytes()


def test_add_on_such_a_file_is_the_full_documents_edit(model, capsys):
    want = expected_after(model, lambda doc: doc.set_layer("b", "dynamic_fixed_point-i16"))
    assert main(["add", str(model), "b"]) == 0
    assert capsys.readouterr().out == "added b: dynamic_fixed_point-i16\n"
    assert model.read_bytes() == want
    assert scanner.scan(model.read_bytes()).entries.keys() == scanner.scan(
        SKIPPED.encode()).entries.keys()


def test_remove_on_such_a_file_is_the_full_documents_edit(model, capsys):
    want = expected_after(model, lambda doc: doc.remove_layer("a"))
    assert main(["remove", str(model), "a"]) == 0
    assert capsys.readouterr().out == "removed a\n"
    assert model.read_bytes() == want


def test_a_key_outside_the_table_is_no_layer(model, capsys):
    assert main(["add", str(model), "z"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.endswith("layer 'z' is not in quantize_parameters\n")
    assert model.read_text() == SKIPPED
    assert not [p for p in model.parent.iterdir() if p.name.endswith(".tmp")]
