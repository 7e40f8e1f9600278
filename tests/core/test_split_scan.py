"""The full scan with the front of its table checked by a forked child
(core/format/split_scan.py): once confirmed, the sequential scan's verdict and index on every
file, wherever the table is cut and whatever the child does, and no child left behind.

The thread rule is pinned in each test that needs a fork (`forking`): the test process may
hold threads an earlier test left (a dask client's), and the tests must not depend on the
order they run in. The children here only match a regex and write to a pipe."""

from __future__ import annotations

import os
import re
import threading

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from quanted.core.errors import ReadError
from quanted.core.format import scanner, split_scan
from quanted.core.format.fast_regex import fast_body_source, learn_layouts
from tests.core.docs import legacy_doc, line_after_tensor, v2_doc
from tests.core.test_fast_open import corrupted

LAYERS = tuple(f"n{i}" for i in range(12))


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


@pytest.fixture(autouse=True)
def no_child_left():
    """No child this test made is left, running or unreaped (children the test process had
    before, a dask cluster's, do not count)."""
    before = _children()
    yield
    assert _children() <= before


@pytest.fixture
def forking(monkeypatch):
    """Every table big enough to cut, and forking allowed whatever threads other tests left."""
    monkeypatch.setattr(split_scan, "MIN_SIZE", 0)
    monkeypatch.setattr(split_scan, "fork_allowed", lambda: True)


def _shape(found) -> object:
    return (found.entries, found.key_indent, found.field_indent, found.newline, found.legacy,
            found.refusals, found.double_quoted_keys)


def _verdict(data: bytes) -> object:
    """The sequential scan's verdict."""
    try:
        found = scanner.scan(data)
    except ReadError as exc:
        return str(exc)
    return _shape(found)


def _split_verdict(data: bytes, check: split_scan.ChildCheck) -> object:
    """The verdict of the scan with `check` checking the front (as full_scan makes it)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(split_scan, "start", lambda data: check)
        try:
            found = split_scan.full_scan(data)
        except ReadError as exc:
            return str(exc)
    assert found.verified and found.unconfirmed is None
    return _shape(found)


def _checks(data: bytes, ki: int = 2, fi: int = 4, newline: str = "\n"):
    """A child checking the front up to each single-quoted key line at indent `ki`, its regex
    made as split_scan.start makes it (the layouts learned from the table)."""
    header = data.find(b"quantize_parameters:")
    body = data.find(b"\n", header) + 1 if header >= 0 else 0
    source = fast_body_source(ki, fi, newline, learn_layouts(data, body, ki, fi, newline))
    for match in re.finditer(rb"\n" + b" " * ki + b"'", data):
        yield split_scan.ChildCheck(data, source, body, match.start() + 1)


def _long_legacy() -> str:
    """legacy_doc with 12 more tensors (its own two are too few to cut after the share)."""
    text = legacy_doc()
    first = re.search(r"\n(    '@attach_input/out0_1:out0':\n(?:        .*\n)+)", text)
    assert first is not None
    more = "".join(first[1].replace("attach_input", f"more{i}") for i in range(12))
    return text.replace("quantize_parameters:\n", "quantize_parameters:\n" + more)


def _agrees_at_every_cut(text: str, **layout) -> int:
    """How many cuts the walk took the front as checked at (the rest it checked itself)."""
    data = text.encode()
    sequential = _verdict(data)
    taken = 0
    for check in _checks(data, **layout):
        try:
            assert _split_verdict(data, check) == sequential, f"cut at {check.cut}"
            taken += check._answer is not None
        finally:
            check.close()
    return taken


def _bad(line: str, at: int) -> str:
    """A table of 24 tensors with `line` put in after the `at`-th."""
    return line_after_tensor(v2_doc(layers=LAYERS), line, at)


BROKEN = [
    _bad("    odd: [1, 2\n", 20),  # late in the table
    _bad("    odd: [1, 2\n", 1),  # early
    _bad("  '@late:out0':\n", 20),  # a tensor without fields, late
    _bad("  '@early:out0':\n", 2),
    _bad("   three: 1\n", 22),
    _bad("  # a comment\n", 15),  # valid YAML the fast regex leaves to the careful path
    _bad("    scale:\n    -   0.5\n    -   --1\n", 18),
    _bad("    name: a\x01b\n", 21),  # a line the engine's loader refuses (Scan.refusals)
    v2_doc(layers=LAYERS).replace("customized_quantize_layers", "  'tail:out0':\ncustomized"),
    v2_doc(layers=LAYERS) + "quantize_parameters: {}\n",
]


@pytest.mark.parametrize("text", BROKEN)
def test_every_cut_gives_the_sequential_verdict(text):
    _agrees_at_every_cut(text)


def test_every_cut_of_a_good_file_the_legacy_layout_and_crlf():
    # every cut is taken (the first key line's too: an empty front)
    assert _agrees_at_every_cut(v2_doc(layers=LAYERS)) == 2 * len(LAYERS)
    assert _agrees_at_every_cut(_long_legacy(), ki=4, fi=8) == 14
    crlf = v2_doc(layers=LAYERS).replace("\n", "\r\n")
    assert _agrees_at_every_cut(crlf, newline="\r\n") == 2 * len(LAYERS)


def test_an_unconfirmed_scan_is_not_verified_until_its_check_is_read(forking):
    data = v2_doc(layers=LAYERS).encode()
    scan = split_scan.scan_with_front_aside(data)
    assert not scan.verified and scan.unconfirmed is not None
    assert split_scan.confirm(scan) is scan and scan.verified and scan.unconfirmed is None
    bad = BROKEN[1].encode()  # its bad line in the front, the child's part
    scan = split_scan.scan_with_front_aside(bad)
    assert not scan.verified
    with pytest.raises(ReadError) as failed:
        split_scan.confirm(scan)
    assert str(failed.value) == _verdict(bad)
    scan = split_scan.scan_with_front_aside(data)
    split_scan.abandon(scan)  # a stopped edit: the child killed and reaped
    assert scan.unconfirmed is None and not scan.verified


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(corrupted(), st.integers(0, 2))
def test_corrupted_files_get_the_sequential_verdict_at_every_cut(text, copies):
    head, sep, rest = text.partition("quantize_parameters:\n")
    ordinary = "".join(v2_doc(layers=(f"x{i}",), header="").split("customized")[0]
                       for i in range(copies))
    _agrees_at_every_cut(head + sep + ordinary + rest)


def test_a_child_that_dies_or_cannot_be_forked_changes_nothing(monkeypatch):
    for data in (BROKEN[0].encode(), v2_doc(layers=LAYERS).encode()):
        sequential = _verdict(data)
        for check in _checks(data):
            os.kill(check.pid, 9)  # before it could report
            try:
                assert _split_verdict(data, check) == sequential
            finally:
                check.close()

    def no_fork():
        raise OSError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(os, "fork", no_fork)
    data = BROKEN[0].encode()
    for check in _checks(data):
        assert check.pid == 0
        assert _split_verdict(data, check) == _verdict(data)


def test_a_check_of_other_bytes_or_another_layout_is_never_relied_on():
    """Whatever such a check answers (here: the wrong answer), the verdict is the sequential
    one: the walk never takes its front as checked."""
    data = BROKEN[0].encode()
    sequential = _verdict(data)
    other = bytes(bytearray(data))  # equal bytes, another object: not the ones scanned
    wrong = [*_checks(data, ki=2, fi=6), *_checks(data, newline="\r\n"), *_checks(other)]
    for check in wrong:
        lie = not check._compute()
        check.holds = lambda lie=lie: lie  # type: ignore[assignment]  # a wrong answer
        try:
            assert _split_verdict(data, check) == sequential
            assert check.pid == 0  # a child the walk did not rely on is reaped at once
        finally:
            check.close()


def test_full_scan_cuts_big_tables_of_either_layout(forking, monkeypatch):
    started = []
    real_start = split_scan.start
    monkeypatch.setattr(split_scan, "start", lambda data: started.append(real_start(data))
                        or started[-1])
    for text in (v2_doc(layers=LAYERS), _long_legacy(), *BROKEN):
        data = text.encode()
        try:
            found = _shape(split_scan.full_scan(data))
        except ReadError as exc:
            found = str(exc)
        assert found == _verdict(data)
        check = started[-1]
        assert check is not None and check.pid == 0  # forked, and reaped
        assert data[check.cut - 1 : check.cut + 1] in (b"\n ", b"\n'")
    no_table = v2_doc().replace("quantize_parameters:", "quantize_parameters: {}")
    assert split_scan.start(no_table.encode()) is None
    commented = v2_doc(layers=LAYERS).replace("quantize_parameters:\n",
                                              "quantize_parameters:\n  # first\n")
    assert split_scan.start(commented.encode()) is None  # the table starts with no key line


def test_no_fork_for_a_small_file_or_beside_another_thread(monkeypatch):
    data = v2_doc(layers=LAYERS).encode()
    monkeypatch.setattr(threading, "active_count", lambda: 1)
    assert split_scan.fork_allowed() == hasattr(os, "fork")
    assert split_scan.start(data) is None  # far below MIN_SIZE
    monkeypatch.undo()
    monkeypatch.setattr(split_scan, "MIN_SIZE", 0)
    release = threading.Event()
    other = threading.Thread(target=release.wait)
    other.start()
    try:
        assert not split_scan.fork_allowed()
        assert split_scan.start(data) is None
    finally:
        release.set()
        other.join()


def test_an_error_behind_a_front_that_holds_is_raised_without_a_second_scan(forking,
                                                                           monkeypatch):
    scans = []
    real_scan = scanner.scan
    monkeypatch.setattr(scanner, "scan", lambda *args, **kw: scans.append(1)
                        or real_scan(*args, **kw))
    late, early = BROKEN[0].encode(), BROKEN[1].encode()  # bad after the cut, and before it
    for data, walks in ((late, 1), (early, 2)):
        sequential = _verdict(data)
        scans.clear()
        with pytest.raises(ReadError) as failed:
            split_scan.full_scan(data)
        assert str(failed.value) == sequential and len(scans) == walks
