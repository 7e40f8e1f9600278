"""A save's check of the customized block passes runs of plain entries by one regex: its
verdict (accepted, or the same error at the same line) must be the careful walk's."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from quanted.core.format import scanner
from quanted.core.errors import ReadError
from quanted.core.format.walker import Scan, Walker

LINES = [
    "  c1_8: dynamic_fixed_point-i16", "  c2: float16  # why", "  'a:b': u8", "  'it''s': i8",
    "  /p/q.r-s: bf16", "   c3: u8", " c4: u8", "    c5: u8", "  c6:", "  - c7", "  c8: 8",
    "  # a note", "", "    # deeper note", "  c9: u8 # x", "  c10: u8#x", "  c11 : u8",
    "  c12: {a: b}", "  c13: 'quoted'", "...", "---", "  \u2028c: u8", "  c14: u8  # \u2028",
    "other: 1", "  c15: a b", "  -c16: u8", "  c17: u8 ", "  c18: -u8",
]
HEADERS = ["customized_quantize_layers:", "customized_quantize_layers: {}",
           "customized_quantize_layers:  # kept"]


def careful(text: str, legacy: bool) -> str | None:
    walker = Walker(Scan(data=text.encode("utf-8")), "f")
    walker.stream.started = legacy
    try:
        walker.walk(0)
    except ReadError as error:
        return str(error)
    return None


def fast(text: str, legacy: bool) -> str | None:
    try:
        scanner.check_block(text, "f", legacy)
    except ReadError as error:
        return str(error)
    return None


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(HEADERS), st.lists(st.sampled_from(LINES), max_size=12),
       st.sampled_from(["\n", "\r\n"]), st.booleans(), st.booleans())
def test_fast_check_agrees_with_the_careful_walk(header, lines, newline, last_newline, legacy):
    text = newline.join([header, *lines]) + (newline if last_newline else "")
    assert fast(text, legacy) == careful(text, legacy)


def test_a_bad_line_after_many_plain_entries_is_still_found():
    body = "".join(f"  c{i}: u8\n" for i in range(1000))
    text = "customized_quantize_layers:\n" + body + "  c: u8: x\n" + body
    error = fast(text, False)
    assert error is not None and error == careful(text, False)
    assert ":1002:" in error
