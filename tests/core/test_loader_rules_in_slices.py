"""The engine-loader checks look at the tensor table in slices (their arrays of the whole
table peaked at ten times the file): sliced or not, they report the same problems."""

from __future__ import annotations

import pytest

from quanted.core.format import loader_rules
from quanted.core.document.model import QuantizeDocument
from tests.conftest import SAMPLE


def _problems(path, chunk, monkeypatch):
    monkeypatch.setattr(loader_rules, "_CHUNK", chunk)
    return [(p.severity, p.message, p.line)
            for p in loader_rules.engine_loader_problems(QuantizeDocument.open(path))]


@pytest.mark.parametrize("where", [0, 1, 5, -1])
def test_slices_find_what_one_piece_finds(tmp_path, monkeypatch, where):
    lines = (SAMPLE / "tinynet_uint8.quantize").read_text().split("\n")
    keys = [i for i, ln in enumerate(lines) if ln.startswith("  '@")]
    at = keys[where]
    lines.insert(at + 2, "    qtype: i16")  # a field written twice
    lines.insert(at + 1, "    " + "k" * 1025 + ": 1")  # a key over the loader's limit
    path = tmp_path / "m.quantize"
    path.write_text("\n".join(lines))
    whole = _problems(path, 1 << 30, monkeypatch)
    assert any("'qtype:' twice" in message for _, message, _ in whole)
    assert any("a key of 1025 characters" in message for _, message, _ in whole)
    for chunk in (1, 37, 200, 1000):
        assert _problems(path, chunk, monkeypatch) == whole
