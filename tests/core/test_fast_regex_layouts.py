"""The layouts learned from a table (core/format/fast_regex.py) change how fast the fast regex
runs, never where it stops: with any layouts, right or wrong, it ends where the general
regex ends, from every tensor of every table. And the full scan's note of double-quoted
keys is the table search's answer."""

from __future__ import annotations

import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from quanted.core.errors import ReadError
from quanted.core.format import scanner
from quanted.core.format.fast_regex import fast_body_re, learn_layouts
from quanted.core.format.walker import Scan
from tests.core.docs import legacy_doc, v2_doc
from tests.core.test_fast_open import corrupted
from tests.core.test_walker_fast_regex import EDGES

NAMES = ["qtype", "scale", "zero_point", "fl", "max_value", "x1", "_y", "1z", "a-b"]
VALUES = ["u8", "0.5", "-1", "--1", "a:b", "'q'", "", "1 2", "i16"]


@st.composite
def fields(draw):
    """One field line, maybe a list (items below it), maybe one the fast regex refuses."""
    name = draw(st.sampled_from(NAMES))
    if draw(st.booleans()):
        items = draw(st.lists(st.sampled_from(["0.5", "-3", "--1", ""]), max_size=3))
        return f"    {name}:\n" + "".join(f"    -   {item}\n" for item in items)
    return f"    {name}: {draw(st.sampled_from(VALUES))}\n"


@st.composite
def tables(draw):
    """A table of tensors from a few shapes, with the odd line here and there."""
    shapes = draw(st.lists(st.lists(fields(), min_size=0, max_size=5), min_size=1, max_size=3))
    lines = []
    for i in range(draw(st.integers(1, 12))):
        lines.append(f"  '@t{i}:out0':\n" + "".join(draw(st.sampled_from(shapes))))
        if draw(st.integers(0, 9)) == 0:
            lines.append(draw(st.sampled_from(["  # c\n", "\n", "     odd: 1\n", "x: 1\n"])))
    return "".join(lines).encode()


def _layout_lists():
    name = st.sampled_from([n.encode() for n in NAMES])
    layout = st.lists(st.tuples(name, st.booleans()), max_size=5).map(tuple)
    return st.lists(layout, max_size=3).map(tuple)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tables(), _layout_lists())
def test_any_layouts_stop_where_the_general_regex_stops(table, wrong):
    general = fast_body_re(2, 4)
    learned = learn_layouts(table, 0, 2, 4)
    for layouts in (learned, wrong, learned + wrong):
        fast = fast_body_re(2, 4, "\n", layouts)
        for start in [0, *(m.start() + 1 for m in re.finditer(rb"\n  '", table))]:
            assert fast.match(table, start).end() == general.match(table, start).end()


def test_a_uint8_table_has_one_layout_and_a_legacy_one_several():
    data = v2_doc(layers=("a", "b", "c")).encode()
    body = data.index(b"quantize_parameters:\n") + len(b"quantize_parameters:\n")
    assert learn_layouts(data, body, 2, 4) == ((
        (b"qtype", False), (b"quantizer", False), (b"rounding", False),
        (b"quant_range_mode", False), (b"max_value", False), (b"min_value", False),
        (b"scale", False), (b"zero_point", False)),)
    legacy = legacy_doc().encode()
    body = legacy.index(b"quantize_parameters:\n") + len(b"quantize_parameters:\n")
    assert learn_layouts(legacy, body, 4, 8)[0][-3:] == (
        (b"zero_point", True), (b"scale", True), (b"qtype", False))


def _searched(data: bytes) -> bool | None:
    """The table search's answer on a fresh index of a file the scan passed."""
    try:
        found = scanner.scan(data)
    except ReadError:
        return None
    fresh = Scan(data=data, entries=found.entries, key_indent=found.key_indent)
    return scanner._has_double_quoted_keys(fresh)


def _noted(data: bytes) -> bool | None:
    try:
        return scanner.scan(data).double_quoted_keys
    except ReadError:
        return None


DOUBLE = v2_doc(layers=("a", "b")).replace("  '@b:out0':", '  "@b:out0":')


def test_the_scan_notes_a_double_quoted_key_as_the_search_finds_it():
    for text in [*EDGES, DOUBLE, DOUBLE.replace('"@b:out0"', "'@b:out0'"), legacy_doc()]:
        assert _noted(text.encode()) == _searched(text.encode())
    assert _noted(DOUBLE.encode()) is True


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(corrupted())
def test_corrupted_files_note_double_quoted_keys_as_the_search_finds_them(text):
    assert _noted(text.encode()) == _searched(text.encode())
