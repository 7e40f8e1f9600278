"""What the engine's YAML loader refuses, found without a YAML parse of a 15 MB file.

acuitylite reads a .quantize with ruamel.yaml 0.17.40 (`YAML(typ="rt")`, version 1.2, no
duplicate keys) over the text of `open(path)`. tests/adversarial/test_engine_loader.py runs
that very loader on a generated corpus and holds these rules to it."""

from __future__ import annotations

import re

from quanted.core.format import scanner
from quanted.core.document.model import QuantizeDocument
from quanted.core.format.engine_yaml import BREAK_CHARS as _BREAK_CHARS
from quanted.core.format.engine_yaml import (
    DIGITS_AS_ZERO,
    LONG_RUN,
    MAX_INT_DIGITS,
    MAX_KEY,
    comment_start,
    describe,
    first_unprintable,
    key_end,
    long_int,
)
from quanted.core.format.problems import ERROR, WARNING, Problem
from quanted.core.format.scanner import QUANTIZE_PARAMETERS

YAML = "yaml"
# ruamel's Reader refuses all but \t \n \r, 0x20-0x7e, 0x85, 0xa0-0xd7ff, 0xe000-0xfffd and
# the astral planes. The same set, as UTF-8 bytes (tabs quanted's reader refuses itself).
_UNPRINTABLE = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]|\xc2[\x80-\x84\x86-\x9f]"
                          rb"|\xef\xbf[\xbe\xbf]")
# Line breaks to ruamel's scanner in comments, not to quanted's reader nor to most editors.
_BREAKS = re.compile(rb"\xc2\x85|\xe2\x80[\xa8\xa9]")
_LONG_LINE = re.compile(rb"^[^\n]{%d,}" % (MAX_KEY + 1), re.MULTILINE)


def input_problem(text: str, comment: bool = False) -> str | None:
    """Why `text` (a layer id, qtype or comment typed by the user) must not be written."""
    if any("\udc80" <= ch <= "\udcff" for ch in text):
        return "is not valid UTF-8"
    if "\n" in text or "\r" in text:
        return "must be a single line"
    bad = first_unprintable(text) or ("\t" if "\t" in text else None)
    if bad is not None:
        return f"holds {describe(bad)}, a control character the engine's YAML loader rejects"
    for ch in _BREAK_CHARS:
        if ch in text:
            return f"holds {describe(ch)}, which the engine's YAML loader reads as a line break"
    if comment:
        return None
    if len(text) > MAX_KEY - 8:
        return f"is {len(text)} characters long; the engine's YAML loader allows {MAX_KEY}"
    return None


def engine_loader_problems(doc: QuantizeDocument) -> list[Problem]:
    """Errors for what the engine's YAML loader rejects, each with its line; warnings for what
    it reads differently from quanted."""
    data = doc.data
    problems: list[Problem] = []
    lines_seen: set[int] = set()
    for match in _unprintable(data):
        line = scanner.line_of(data, match.start())
        if line in lines_seen:
            continue
        lines_seen.add(line)
        ch = match.group().decode("utf-8")
        problems.append(Problem(ERROR, f"{describe(ch)}, a control character: the engine's YAML "
                                "loader rejects the file", line, code=YAML))
    problems.extend(_long_int_problems(data))
    problems.extend(_break_problems(data))
    problems.extend(_long_key_problems(data))
    problems.extend(_duplicate_field_problems(doc))
    return problems


_ASCII_TEXT = bytes([9, 10, 13, *range(0x20, 0x7F)])


def _unprintable(data: bytes) -> list[re.Match[bytes]]:
    # In slices: translate() first allocates an output as large as its input (161 MB for a
    # 161 MB file, almost all of it given back at once).
    rest = b"".join(data[at : at + _CHUNK].translate(None, _ASCII_TEXT)
                    for at in range(0, len(data), _CHUNK))
    if not rest:
        return []  # printable ASCII only: the common file, decided in one pass
    if rest.isascii() is False and not rest.translate(None, bytes(range(0x80, 0x100))) \
            and b"\xc2" not in rest and b"\xef\xbf" not in rest:
        return []  # UTF-8 letters only, none in the C1 or U+FFFE/FFFF ranges
    return list(_UNPRINTABLE.finditer(data))


def _line_at(data: bytes, pos: int) -> tuple[int, str]:
    start = data.rfind(b"\n", 0, pos) + 1
    end = data.find(b"\n", pos)
    return start, data[start : end if end >= 0 else len(data)].decode("utf-8").rstrip("\r")


def _long_int_problems(data: bytes) -> list[Problem]:
    """Integers of more digits than the loader reads: a run that long is looked for in C, a
    slice at a time (the marked copy of a slice, not of the file)."""
    problems: list[Problem] = []
    seen: set[int] = set()
    for at in range(0, len(data), _CHUNK):
        marked = data[at : at + _CHUNK + MAX_INT_DIGITS].translate(DIGITS_AS_ZERO)
        found = marked.find(LONG_RUN)
        while 0 <= found < _CHUNK:
            start, text = _line_at(data, at + found)
            digits = long_int(text)
            if digits is not None and start not in seen:
                seen.add(start)
                problems.append(Problem(
                    ERROR, f"an integer of {digits} digits: the engine's YAML loader reads at "
                    f"most {MAX_INT_DIGITS}", scanner.line_of(data, start), code=YAML))
            end = data.find(b"\n", at + found)
            if end < 0:
                break
            found = marked.find(LONG_RUN, end + 1 - at)
    return problems


def _break_problems(data: bytes) -> list[Problem]:
    if data.isascii():
        return []
    problems = []
    done: set[int] = set()
    for match in _BREAKS.finditer(data):
        start, text = _line_at(data, match.start())
        if start in done:
            continue
        done.add(start)
        line = scanner.line_of(data, start)
        ch = next(c for c in text if c in _BREAK_CHARS)
        comment = comment_start(text)
        first = min(text.index(c) for c in _BREAK_CHARS if c in text)
        if comment < 0 or first < comment:
            problems.append(Problem(WARNING, f"{describe(ch)} in this line: the engine's YAML "
                                    "loader reads it as a line break, quanted does not", line))
            continue
        # In a comment the loader ends the comment there and reads what follows as YAML.
        pieces = re.split(f"[{_BREAK_CHARS}]", text[comment:])[1:]
        if all(not p.strip(" ") or p.lstrip(" ").startswith("#") for p in pieces):
            problems.append(Problem(WARNING, f"{describe(ch)} in a comment: the engine's YAML "
                                    "loader reads it as a line break", line))
        else:
            problems.append(Problem(ERROR, f"{describe(ch)} in a comment: the engine's YAML "
                                    "loader ends the comment there and rejects what follows",
                                    line, code=YAML))
    return problems


def _long_key_problems(data: bytes) -> list[Problem]:
    import numpy as np

    longest, last = 0, -1  # the longest line, with its newline; the last newline seen
    for at in range(0, len(data), _CHUNK):  # in slices: one array of the whole file is 9x it
        part = np.frombuffer(data, dtype=np.uint8, count=min(_CHUNK, len(data) - at), offset=at)
        breaks = np.flatnonzero(part == 10)
        if breaks.size:
            longest = max(longest, int(breaks[0]) + at - last,
                          int(np.diff(breaks).max()) if breaks.size > 1 else 0)
            last = int(breaks[-1]) + at
    if max(longest, len(data) - last) <= MAX_KEY + 1:
        return []  # no line long enough to hold a key over the limit
    problems = []
    for match in _LONG_LINE.finditer(data):
        text = match.group().decode("utf-8").rstrip("\r")
        found = key_end(text)
        if found is not None and found[1] - found[0] > MAX_KEY:
            problems.append(Problem(
                ERROR, f"a key of {found[1] - found[0]} characters: the engine's YAML loader "
                f"allows {MAX_KEY}", scanner.line_of(data, match.start()), code=YAML))
    return problems


def _duplicate_field_problems(doc: QuantizeDocument) -> list[Problem]:
    """A key written twice in one mapping of quantize_parameters (two `qtype:` lines in a
    tensor): the engine's loader fails with DuplicateKeyError. Entries that may hold one are
    found in bulk (numpy: each key line's indent and first 16 bytes of name, per entry);
    only those are searched exactly."""
    params = doc.scan.entries[QUANTIZE_PARAMETERS]
    ki = doc.scan.key_indent
    problems = []
    for start, end in scanner.pieces(doc.data, params.body_start - 1, params.end, ki,
                                     _CHUNK):
        for span_start, span_end in _suspect_entries(doc.data, start, end, ki):
            problems.extend(_exact_duplicates(doc, span_start, span_end))
    return problems


# Bytes of the table looked at in one go: the bulk search holds about 300 bytes of arrays per
# line (ten times the bytes), so the whole table at once peaked at 1.5 GB for 150 MB.
_CHUNK = 1 << 18


def _suspect_entries(data: bytes, start: int, end: int, ki: int) -> list[tuple[int, int]]:
    import numpy as np

    arr = np.frombuffer(data, dtype=np.uint8, count=end - start, offset=start)
    starts = np.flatnonzero(arr == 10) + 1
    starts = starts[starts < arr.size]
    if starts.size == 0:
        return []
    deep, width = 16, 16
    padded = np.concatenate([arr, np.full(deep + width, 10, dtype=np.uint8)])
    # Rows of windows onto `padded` (no copy) picked by line: an index array per byte
    # (starts[:, None] + arange) was eight bytes for each byte looked at, 5 MB per slice.
    window = np.lib.stride_tricks.sliding_window_view(padded, deep)[starts]
    not_space = window != 32
    if not not_space.any(axis=1).all():
        return [(start, end)]  # a line indented 16 or more: search it all exactly
    indent = np.argmax(not_space, axis=1)
    first = window[np.arange(len(starts)), indent]
    is_entry = (indent == ki) & (first == ord("'"))
    entry = np.cumsum(is_entry).astype(np.uint64)
    is_field = (indent > ki) & ~np.isin(first, np.frombuffer(b"-#\n\r", dtype=np.uint8))
    rows = np.flatnonzero(is_field)
    if rows.size == 0:
        return []
    names = np.lib.stride_tricks.sliding_window_view(padded, width)[starts[rows] + indent[rows]]
    # Each name up to its ':' only: the value must not tell two lines apart.
    colon = names == ord(":")
    cut = np.where(colon.any(axis=1), np.argmax(colon, axis=1), width)
    names = np.where(np.arange(width) >= cut[:, None], 0, names)
    halves = np.ascontiguousarray(names).view(np.uint64)
    with np.errstate(over="ignore"):
        signature = (halves[:, 0] * np.uint64(0x9E3779B97F4A7C15)
                     ^ halves[:, 1] * np.uint64(0xC2B2AE3D27D4EB4F)
                     ^ entry[rows] * np.uint64(0x165667B19E3779F9)
                     ^ indent[rows].astype(np.uint64))
    ordered = np.sort(signature)
    repeated = ordered[1:][ordered[1:] == ordered[:-1]]
    if repeated.size == 0:
        return []
    suspects = sorted({int(e) for e in entry[rows][np.isin(signature, repeated)]})
    entry_starts = starts[is_entry]
    spans = []
    for number in suspects:  # entry n runs from the n-th key line to the next one
        span_start = int(entry_starts[number - 1]) if number else 0
        span_end = int(entry_starts[number]) if number < len(entry_starts) else arr.size
        spans.append((start + span_start, start + span_end))
    return spans


def _exact_duplicates(doc: QuantizeDocument, start: int, end: int) -> list[Problem]:
    data = doc.data
    pattern = re.compile(
        rb"^( {%d,})([^ \n'\"#\-][^:\n]*?|'[^'\n]*'):(?=[ \r\n])[^\n]*\n"
        rb"(?:\1[^\n]*\n)*?\1\2:(?=[ \r\n])" % (doc.scan.key_indent + 1),
        re.MULTILINE,
    )
    problems = []
    pos = start
    while (match := pattern.search(data, pos, end)) is not None:
        second = match.end() - len(match.group(2)) - 1
        key_at = data.rfind(b"\n" + b" " * doc.scan.key_indent + b"'", 0, match.start())
        key = _line_at(data, key_at + 1)[1].strip().rstrip(":") if key_at >= 0 else "?"
        problems.append(Problem(
            ERROR, f"tensor {key} has '{match.group(2).decode('utf-8')}:' twice: the engine's "
            "YAML loader rejects the file (duplicate key)", scanner.line_of(data, second),
            code=YAML))
        pos = _line_end_at(data, second)
    return problems


def _line_end_at(data: bytes, pos: int) -> int:
    end = data.find(b"\n", pos)
    return len(data) if end < 0 else end + 1
