"""The full scan with the back of its table checked by a forked child (core/disk/splitscan.py)
gives the sequential scan's verdict on every file, whatever the child does, and leaves no
child behind."""

from __future__ import annotations

import os
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from quanted.core.format import scanner
from quanted.core.disk import splitscan
from quanted.core.errors import ReadError
from quanted.core.format.walker import fast_body_re
from tests.core.docs import legacy_doc, v2_doc
from tests.core.test_fast_open import corrupted


@pytest.fixture(autouse=True)
def _children_before():
    """The children the test process already has (an earlier suite's, a dask cluster's
    helpers): _no_children() counts only the ones made after."""
    _BEFORE.clear()
    _BEFORE.update(_children())


LAYERS = tuple(f"n{i}" for i in range(12))


def _verdict(data: bytes, helper: splitscan.ChildScan | None = None) -> object:
    try:
        found = scanner.scan(data, helper=helper)
    except ReadError as exc:
        return str(exc)
    return (found.entries, found.key_indent, found.field_indent, found.newline, found.legacy)


def _children() -> set[int]:
    """This process's children, zombies included (each thread's list in /proc)."""
    found: set[int] = set()
    for task in os.listdir("/proc/self/task"):
        try:
            with open(f"/proc/self/task/{task}/children") as listing:
                found |= {int(pid) for pid in listing.read().split()}
        except OSError:
            continue
    return found


_BEFORE: set[int] = set()


def _no_children() -> bool:
    """No child the split scan made is left, running or unreaped. Children the test process
    had before (an earlier suite's, a dask cluster's helpers) do not count."""
    return _children() <= _BEFORE


def _helpers(data: bytes, ki: int = 2, fi: int = 4, newline: str = "\n"):
    """A helper cut at each single-quoted key line at indent `ki`, as splitscan.start cuts."""
    for match in re.finditer(rb"\n" + b" " * ki + b"'", data):
        yield splitscan.ChildScan(data, fast_body_re(ki, fi, newline), match.start() + 1)


def _agrees_at_every_cut(text: str, **layout) -> None:
    data = text.encode()
    sequential = _verdict(data)
    for helper in _helpers(data, **layout):
        try:
            assert _verdict(data, helper) == sequential, f"cut at {helper.cut}"
        finally:
            helper.close()
    assert _no_children()


def _bad(line: str, at: int) -> str:
    """A long table with `line` put in after the `at`-th tensor."""
    text = v2_doc(layers=LAYERS)
    keys = [m.start() for m in re.finditer(r"\n  '", text)]
    cut = keys[at] + 1
    return text[:cut] + line + text[cut:]


BROKEN = [
    _bad("    odd: [1, 2\n", 20),  # late in the table
    _bad("    odd: [1, 2\n", 1),  # early
    _bad("  '@late:out0':\n", 20),  # a fieldless tensor, late
    _bad("  '@early:out0':\n", 2),
    _bad("   three: 1\n", 22),
    _bad("  # a comment\n", 15),
    _bad("    scale:\n    -   0.5\n    -   --1\n", 18),
    v2_doc(layers=LAYERS).replace("customized_quantize_layers", "  'tail:out0':\ncustomized"),
    v2_doc(layers=LAYERS) + "quantize_parameters: {}\n",
]


@pytest.mark.parametrize("text", BROKEN)
def test_every_cut_gives_the_sequential_verdict(text):
    _agrees_at_every_cut(text)


def test_every_cut_of_the_legacy_and_crlf_layouts():
    _agrees_at_every_cut(legacy_doc(), ki=4, fi=8)
    _agrees_at_every_cut(v2_doc(layers=LAYERS).replace("\n", "\r\n"), newline="\r\n")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(corrupted(), st.integers(0, 2))
def test_corrupted_files_get_the_sequential_verdict_at_every_cut(text, copies):
    head, sep, rest = text.partition("quantize_parameters:\n")
    ordinary = "".join(v2_doc(layers=(f"x{i}",), header="").split("customized")[0]
                       for i in range(copies))
    _agrees_at_every_cut(head + sep + ordinary + rest)


def test_a_child_that_dies_or_cannot_be_forked_changes_nothing(monkeypatch):
    data = BROKEN[0].encode()
    sequential = _verdict(data)
    for helper in _helpers(data):
        os.kill(helper._pid, 9)  # before it could report
        try:
            assert _verdict(data, helper) == sequential
        finally:
            helper.close()
    monkeypatch.setattr(os, "fork", lambda: (_ for _ in ()).throw(OSError(11, "no")))
    for helper in _helpers(data):
        assert helper._pid == 0
        assert _verdict(data, helper) == sequential
    assert _no_children()


def test_start_cuts_only_big_files_and_only_with_one_thread(monkeypatch):
    data = v2_doc(layers=LAYERS).encode()
    # One thread, as quanted's own process at an edit (the test process may hold threads an
    # earlier suite left, a dask client's); the count is set to 2 further down.
    monkeypatch.setattr(splitscan.threading, "active_count", lambda: 1)
    assert splitscan.start(data) is None  # far below MIN_SIZE
    monkeypatch.setattr(splitscan, "MIN_SIZE", 0)
    helper = splitscan.start(data)
    assert helper is not None
    try:
        assert data[helper.cut - 1 : helper.cut + 3] == b"\n  '"
        assert _verdict(data, helper) == _verdict(data)
    finally:
        helper.close()
    no_table = v2_doc().replace("quantize_parameters:", "quantize_parameters: {}")
    for layout in (legacy_doc(), no_table):
        helper = splitscan.start(layout.encode())  # guessed or not: the same verdict
        try:
            assert _verdict(layout.encode(), helper) == _verdict(layout.encode())
        finally:
            if helper is not None:
                helper.close()
    monkeypatch.setattr(splitscan.threading, "active_count", lambda: 2)
    assert splitscan.start(data) is None
    assert _no_children()


def test_a_wrong_guess_is_not_used():
    """A child that scanned with another layout's patterns, or other bytes: never used."""
    data = BROKEN[0].encode()
    sequential = _verdict(data)
    other = bytes(bytearray(data))  # equal, another object: not the bytes scanned
    for helper in [*_helpers(data, ki=2, fi=6), *_helpers(data, ki=2, fi=4, newline="\r\n")]:
        helper.fast_end = None  # type: ignore[assignment]
        try:
            assert _verdict(data, helper) == sequential
        finally:
            helper.close()
    for helper in _helpers(other):
        helper.fast_end = None  # type: ignore[assignment]
        try:
            assert _verdict(data, helper) == sequential
        finally:
            helper.close()
    assert _no_children()
