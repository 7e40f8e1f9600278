"""`add` and `remove` open a file with the guessed index (the table taken to run to the last
`customized_quantize_layers:` line, unread); a file with a top-level key the guess skipped
is edited again from the fast index, with the same output and bytes, and the layer lookup
of the guess never lets a key outside the table pass for a layer."""

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


def guesses_wrong(path) -> bool:
    doc = QuantizeDocument.open(path, full=False, guess=True)
    try:
        doc.verify()
    except scanner.GuessMissed:
        return True
    return False


def expected_after(path, edit) -> bytes:
    """The bytes the fully scanned document gives for the same edit."""
    doc = QuantizeDocument(path.read_bytes(), path, full=True)
    edit(doc)
    return doc.to_bytes()


def test_the_fixture_is_one_the_guess_gets_wrong(model):
    assert guesses_wrong(model)


def test_add_on_a_file_the_guess_got_wrong_is_done_from_the_fast_index(model, capsys):
    want = expected_after(model, lambda doc: doc.set_layer("b", "dynamic_fixed_point-i16"))
    assert main(["add", str(model), "b"]) == 0
    assert capsys.readouterr().out == "added b: dynamic_fixed_point-i16\n"
    assert model.read_bytes() == want
    assert scanner.scan(model.read_bytes()).entries.keys() == scanner.scan(
        SKIPPED.encode()).entries.keys()


def test_remove_on_a_file_the_guess_got_wrong_is_done_from_the_fast_index(model, capsys):
    want = expected_after(model, lambda doc: doc.remove_layer("a"))
    assert main(["remove", str(model), "a"]) == 0
    assert capsys.readouterr().out == "removed a\n"
    assert model.read_bytes() == want


def test_a_key_outside_the_table_is_no_layer_even_where_the_guess_would_look(model, capsys):
    assert main(["add", str(model), "z"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.endswith("layer 'z' is not in quantize_parameters\n")
    assert model.read_text() == SKIPPED
    assert not [p for p in model.parent.iterdir() if p.name.endswith(".tmp")]


def test_an_ordinary_file_is_guessed_right(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    path = tmp_path / "m_uint8.quantize"
    path.write_text(v2_doc(layers=("a", "b")))
    assert not guesses_wrong(path)
    assert main(["add", str(path), "b"]) == 0
    assert capsys.readouterr().out == "added b: dynamic_fixed_point-i16\n"
