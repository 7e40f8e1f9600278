"""The walker's fast regex only shortens the full scan: with it or without it (every line
read the careful way), every file gets the same verdict, the same index or the same error."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from quanted.core.format import scanner, walker
from quanted.core.errors import ReadError
from tests.core.docs import legacy_doc, v2_doc
from tests.core.test_fast_open import corrupted


def _verdict(data: bytes) -> object:
    try:
        found = scanner.scan(data)
    except ReadError as exc:
        return str(exc)
    return (found.entries, found.key_indent, found.field_indent, found.newline, found.legacy)


def _careful_verdict(data: bytes) -> object:
    """The verdict with a fast regex that takes nothing: every line read one by one."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(walker, "fast_body_re", lambda *args: re.compile(b""))
        return _verdict(data)


# Lines at the edges of what the fast regex takes: signs, odd tokens, names, items, newlines.
EDGES = [
    *(v2_doc(layers=("a",)).replace("    scale: 4.811771941604093e-05\n", f"    scale: {value}\n")
      for value in ("-", "--5", "-.5", "-x", "+1", "~", "1e-05", "-1.5e-05", "a-", "-a-",
                    ".", "5 ", "5  # c", "'q'", '"q"', "[1, 2]", "{}", "a:b", "a: b", "@x",
                    "x@", "`x", "&a", "*a", "!t", "|", ">", "%x", "?", "? x", "- 5", "-\t5")),
    *(v2_doc(layers=("a",)).replace("    scale:", f"    {name}:")
      for name in ("1scale", "_s", "s-c", "s.c", "-s", "~", "'s'", "s s", "S")),
    v2_doc(layers=("a",)).replace("    scale: 4.811771941604093e-05\n",
                                  "    scale:\n    -   0.5\n    -   -0.5\n    -   --1\n"),
    v2_doc(layers=("a",)).replace("    scale: 4.811771941604093e-05\n",
                                  "    scale:\n    -   0.5\n    -\n    zp: 1\n"),
    v2_doc(layers=("a",)).replace("    scale: 4.811771941604093e-05\n", "    scale:\n"),
    v2_doc(layers=("a", "b")).replace("\n", "\r\n"),
    v2_doc(layers=("a", "b")).replace("\n", "\r\n", 3),  # first lines CRLF, the rest LF
    v2_doc(layers=("a", "b")).replace("    qtype: u8\n", "    qtype: u8\r\n", 1),
    v2_doc(layers=("a", "b")).replace("  '@a:weight':", "  '@a:''w''':"),
    v2_doc(layers=("a", "b")).replace("  '@a:weight':", "  '':"),
    v2_doc(layers=("a", "b")).replace("  '@a:weight':", "  '@a:weight': x"),
    v2_doc(layers=("a", "b")).replace("  '@a:weight':", "  '@a:weight':x"),
    v2_doc(layers=("a", "b")).replace("  '@a:weight':\n", "  '@a:lost':\n  '@a:weight':\n"),
    v2_doc(layers=("a", "b")).replace("  '@a:out0':\n", "  '@a:lost':\n  '@a:out0':\n"),
    v2_doc(layers=("a", "b")).replace("customized_quantize_layers", "  '@z:lost':\ncustomized"),
    v2_doc(layers=("a", "b")).replace("customized_quantize_layers", "  '@z:lost':\n\ncustomized"),
    v2_doc(layers=("a", "b")).replace("  '@b:out0':\n", "  '@b:lost':\n  # c\n  '@b:out0':\n"),
    v2_doc(layers=("a", "b")).replace("    zero_point: 83\n  '@b:out0':\n",
                                      "    zero_point: 83\n    'q':\n  '@b:out0':\n"),
    legacy_doc(),
    legacy_doc(rknn=True),
]


@pytest.mark.parametrize("text", EDGES)
def test_edges_get_the_careful_verdict(text):
    data = text.encode()
    assert _verdict(data) == _careful_verdict(data)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(corrupted())
def test_corrupted_files_get_the_careful_verdict(text):
    data = text.encode()
    assert _verdict(data) == _careful_verdict(data)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(EDGES), st.integers(0, 3))
def test_edges_in_longer_tables_get_the_careful_verdict(text, copies):
    """The odd line in the middle of ordinary tensors: the fast regex stops there and the
    careful path takes over, then hands back."""
    head, sep, rest = text.partition("quantize_parameters:\n")
    ordinary = "".join(v2_doc(layers=(f"n{i}",), header="").split("customized")[0]
                       for i in range(copies))
    data = (head + sep + ordinary + rest).encode()
    assert _verdict(data) == _careful_verdict(data)
