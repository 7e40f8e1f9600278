from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from quanted.core.format.entropy import EntropyReport, LayerEntropy, _parsed
from quanted.core.errors import ReadError
from tests.conftest import public


def test_public_report_parses_exactly():
    path = public("khadas_mobilenet_tf_entropy.txt")
    report = EntropyReport.read(path)
    lines = path.read_text().splitlines()
    assert len(report) == len(lines)
    first_key, first_value = lines[0].rsplit(", ", 1)
    assert report.keys[0] == first_key
    assert report.values[0] == float(first_value)
    by_layer = report.by_layer()
    assert set(by_layer["MobilenetV1/MobilenetV1/Conv2d_0/Conv2D_88"]) == {"out0", "weight"}


def test_summary_histogram_and_threshold():
    report = EntropyReport.parse(b"@a:out0, 0.1\n@b:out0, 0.5\n@b:weight, 0.9\n@c:out0, 1.2\n")
    summary = report.summary()
    assert (summary.count, summary.minimum, summary.maximum) == (4, 0.1, 1.2)
    counts, edges = report.histogram(bins=10)
    assert counts.sum() == 4 and counts[-1] == 2  # 0.9 and the clipped 1.2
    assert np.isclose(edges[0], 0.0) and np.isclose(edges[-1], 1.0)
    assert report.count_at_or_above(0.5) == 3


@pytest.mark.parametrize(
    "data, line, message",
    [
        (b"@a:out0, 0.1\n@b:out0 0.2\n", 2, "expected 'TENSOR_KEY, VALUE'"),
        (b"@a:out0, x\n", 1, "not a number"),
        (b"@a:out0, nan\n", 1, "NaN"),
        (b"\n\n", None, "empty entropy report"),
        (b"@a\x00", None, "binary"),
    ],
)
def test_bad_lines_name_path_and_line(data, line, message):
    with pytest.raises(ReadError) as exc:
        EntropyReport.parse(data, "e.txt")
    assert exc.value.line == line
    assert message in exc.value.message
    assert str(exc.value).startswith("e.txt")


def test_layer_ids_with_colons_split_at_the_last_one():
    report = EntropyReport.parse(b"@blk:3/conv:out0, 0.25\n")
    assert report.by_layer() == {"blk:3/conv": {"out0": 0.25}}


def _read(data: bytes, piece: int) -> tuple[list[str], list[float]] | tuple[str, int | None]:
    keys: list[str] = []
    numbers: list[float] = []
    try:
        for found_keys, found_numbers in _parsed(data, "e.txt", piece):
            keys += found_keys
            numbers += found_numbers
    except ReadError as exc:
        return exc.message, exc.line
    return keys, numbers


@settings(max_examples=300, deadline=None)
@given(st.text(st.sampled_from("ab,0.5\n\r\x0b\x1c\x85\u2028 \xe9")), st.integers(1, 8))
def test_a_report_read_in_pieces_reads_as_a_whole_one(text, piece):
    data = text.encode("utf-8")
    assert _read(data, piece) == _read(data, len(data) + 1)
    if b"\x85" not in data:  # a line of ascii pieces: that same text, bytes for bytes
        assert _read(data + b"\xff", piece) == _read(data + b"\xff", len(data) + 2)


def test_a_report_read_by_layer_is_the_whole_reports_by_layer(tmp_path):
    path = public("khadas_mobilenet_tf_entropy.txt")
    found = LayerEntropy.read(path)
    assert found.path == path
    assert found.by_layer() == EntropyReport.read(path).by_layer()
    assert list(found.by_layer()) == list(EntropyReport.read(path).by_layer())
    bad = tmp_path / "e.txt"
    bad.write_bytes(b"@a:out0, 0.1\n" * 100000 + b"@b:out0 0.2\n")
    with pytest.raises(ReadError) as exc:
        LayerEntropy.read(bad)
    assert exc.value.line == 100001


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from([0.0, 0.25, 0.5, 1.0, 1e-6, 2.5]) | st.floats(0, 1), min_size=1,
                max_size=40), st.integers(0, 45))
def test_the_highest_values_are_a_sort_by_value_ties_in_report_order(values, count):
    report = EntropyReport([f"l{i}:out0" for i in range(len(values))], list(values))
    expected = sorted(range(len(values)), key=lambda i: (-values[i], i))[:count]
    assert report.highest(count) == expected
    assert report.bounds() == (min(values), max(values))
    array = report.values  # made on first use; the floats after it come from the array
    assert array.dtype == np.float64 and array.tolist() == list(values)
    assert report.highest(count) == expected and report.values_list() == list(values)


def test_a_report_read_for_some_layers_keeps_theirs_as_the_whole_report_has_them():
    path = public("khadas_mobilenet_tf_entropy.txt")
    whole = EntropyReport.read(path).by_layer()
    only = set(list(whole)[::7]) | {"not_a_layer"}
    assert LayerEntropy.read(path, only).by_layer() == {
        layer: ports for layer, ports in whole.items() if layer in only}
