"""The fast open (top-level lines only) and the full scan agree on every file the full scan
accepts, and nothing opened the fast way is ever written when the full scan rejects it."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from quanted.core.format import scanner
from quanted.core.disk import verdicts
from quanted.core.document.model import QuantizeDocument
from quanted.core.errors import EditError, QuantedError, ReadError
from quanted.core.disk.stamp import DiskStamp
from tests.core.docs import legacy_doc, v2_doc

BASES = [
    v2_doc(layers=("c1_8", "c2_6"), customized=(
        "customized_quantize_layers:\n  # note\n  c1_8: dynamic_fixed_point-i16  # why\n"
    )),
    legacy_doc(),
    legacy_doc(rknn=True),
    v2_doc(layers=("a", "b"), customized="customized_quantize_layers: {a: float16}\n")
    .replace("\n", "\r\n"),
    v2_doc(layers=("a",)).replace("    scale: 4.811771941604093e-05\n",
                                  "    scale: [0.1, 0.2]\n    channel_dim: 0\n"),
    "\ufeff" + v2_doc(layers=("a",), stable=False) + "...\n",
    # a top-level key between the table and the block
    v2_doc(layers=("a", "b"), customized="other:\n  '@z:out0':\n    qtype: u8\n"
           "customized_quantize_layers:\n  a: float16\n"),
]
SPECIAL = list("'\":#-{}[]&*!|>%@` \n?,\\") + ["  ", "- ", ": ", " #", "\n  ", "\n    ", "~",
                                               "...", "---", "\nx: 1\n", "\t", "\x00"]
IDS = ["c1_8", "c2_6", "a", "b", "a:b", "x y", "'q'", "yes", "#h", "attach_input/out0_1"]


@st.composite
def corrupted(draw):
    text = draw(st.sampled_from(BASES))
    for _ in range(draw(st.integers(0, 3))):
        kind = draw(st.sampled_from(["insert", "delete", "replace", "dup-line", "drop-line"]))
        pos = draw(st.integers(0, max(0, len(text) - 1)))
        if kind == "insert":
            text = text[:pos] + draw(st.sampled_from(SPECIAL)) + text[pos:]
        elif kind == "delete":
            text = text[:pos] + text[pos + draw(st.integers(1, 4)):]
        elif kind == "replace":
            text = text[:pos] + draw(st.sampled_from(SPECIAL)) + text[pos + 1:]
        else:
            lines = text.split("\n")
            i = pos % len(lines)
            lines[i:i + 1] = [lines[i], lines[i]] if kind == "dup-line" else []
            text = "\n".join(lines)
    return text


@pytest.fixture(autouse=True, scope="module")
def _private_verdicts():
    """Each example writes a file; their verdicts go to a throwaway cache."""
    with tempfile.TemporaryDirectory() as cache, pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_CACHE_HOME", cache)
        yield


def _full(data: bytes) -> scanner.Scan | None:
    try:
        return scanner.scan(data)
    except ReadError:
        return None


def _layout(result: scanner.Scan) -> tuple[object, ...]:
    return (result.entries, result.key_indent, result.field_indent, result.newline,
            result.legacy)


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(corrupted())
def test_the_fast_index_agrees_with_the_full_scan(text):
    data = text.encode()
    full = _full(data)
    try:
        fast = scanner.index(data)
    except ReadError as exc:  # the fast index refuses only what the full scan refuses, alike
        with pytest.raises(ReadError) as full_error:
            scanner.scan(data)
        assert str(exc) == str(full_error.value)
        return
    if full is None:
        return
    assert not fast.verified and full.verified
    assert _layout(fast) == _layout(full)
    assert scanner.tensor_keys(fast) == scanner.tensor_keys(full)
    assert _customized(data, full=False) == _customized(data, full=True)


def test_the_fast_index_finds_a_key_between_the_table_and_the_block():
    data = BASES[-1].encode()
    full = scanner.scan(data)
    assert list(full.entries) == ["version", "quantize_parameters", "other",
                                  "customized_quantize_layers", "stable_quantize_tensors"]
    assert _layout(scanner.index(data)) == _layout(full)


def _customized(data: bytes, full: bool) -> dict[str, str] | str:
    """The customized map, or the error opening gives (the block is read the same way)."""
    try:
        return QuantizeDocument(data, full=full).customized
    except ReadError as exc:
        return str(exc)


@settings(max_examples=700, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(corrupted(), st.lists(st.tuples(st.sampled_from(["set", "comment", "remove"]),
                                       st.sampled_from(IDS),
                                       st.sampled_from(["float16", "why # not", "it's", ""])),
                             min_size=1, max_size=4))
def test_the_fast_path_never_writes_what_the_full_scan_rejects(text, edits):
    data = text.encode()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "m.quantize"
        path.write_bytes(data)
        try:
            doc = QuantizeDocument.open(path, full=False)
        except ReadError:
            return
        for action, layer, arg in edits:
            try:
                if action == "set":
                    doc.set_layer(layer, arg or "float16")
                elif action == "comment":
                    doc.set_comment(layer, arg or None)
                else:
                    doc.remove_layer(layer)
            except EditError:
                pass
        try:
            doc.save()
        except QuantedError:
            assert path.read_bytes() == data, "a refused save must leave the file alone"
            assert [n for n in os.listdir(folder) if not n.endswith(".lock")] == ["m.quantize"]
            return
        assert _full(data) is not None, "saved although the full scan rejects the file"
        assert _full(path.read_bytes()) is not None, "wrote a file the full scan rejects"


def test_a_second_edit_trusts_the_first_runs_verdict(tmp_path, monkeypatch):
    path = tmp_path / "m.quantize"
    path.write_text(v2_doc())
    doc = QuantizeDocument.open(path, full=False)
    assert not doc.scan.verified
    doc.set_layer("c1_8", "float16")
    doc.save()
    assert QuantizeDocument.open(path, full=False).scan.verified
    text = path.read_text()
    path.write_text(text.replace("    qtype: u8\n", "    qtype: u8\n   bad: 1\n", 1))
    again = QuantizeDocument.open(path, full=False)
    assert not again.scan.verified  # changed by someone else: scanned again before a write
    again.set_layer("c2_6", "float16")
    with pytest.raises(ReadError):
        again.save()


def test_a_recalled_index_is_the_full_scans(tmp_path):
    path = tmp_path / "m.quantize"
    path.write_text(legacy_doc())
    QuantizeDocument.open(path)  # the full scan passes and is recorded
    recalled = QuantizeDocument.open(path, full=False).scan
    full = scanner.scan(path.read_bytes())
    assert recalled.verified
    assert (recalled.entries, recalled.key_indent, recalled.field_indent, recalled.newline,
            recalled.legacy) == (full.entries, full.key_indent, full.field_indent, full.newline,
                                 full.legacy)


def test_a_recalled_index_that_does_not_fit_the_bytes_is_not_used(tmp_path):
    path = tmp_path / "m.quantize"
    path.write_text(v2_doc())
    doc = QuantizeDocument.open(path)
    moved = {key: e._replace(start=e.start + 1) for key, e in doc.scan.entries.items()}
    assert doc.stamp is not None
    verdicts.record(doc.stamp, doc.scan.replace(entries=moved))  # a cache gone wrong
    again = QuantizeDocument.open(path, full=False)
    assert not again.scan.verified
    assert again.scan.entries == scanner.scan(path.read_bytes()).entries


def test_reading_the_file_does_not_void_its_verdict():
    """A stamp is not the whole stat: reading a file moves its atime (relatime does so on the
    first read after a write), which names no new version."""
    fields = list(os.stat(__file__))
    before = os.stat_result(fields)
    fields[7] += 1  # st_atime
    after = os.stat_result(fields)
    assert before != after and DiskStamp.of_stat(before) == DiskStamp.of_stat(after)
