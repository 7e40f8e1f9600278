"""The careful walk behind the full scan: every line of a .quantize file checked.

A 15 MB file holds 540,000 lines; a YAML parser needs seconds for them (docs/format.md
section 6). The tensor table has a rigid shape, so one possessive regex checks
runs of ordinary lines in C, and only lines it does not recognise (comments,
per-channel lists, the few top-level keys) are looked at one by one.
"""

from __future__ import annotations

import re
from typing import NamedTuple, Protocol

from quanted.core.format.engine_yaml import line_refusal
from quanted.core.format.fast_regex import fast_body_re, learn_layouts
from quanted.core.errors import ReadError
from quanted.core.format.keys import unquote_single
from quanted.core.format.yamlshape import LINE_RE, ShapeError, Stream, Structure

QUANTIZE_PARAMETERS = "quantize_parameters"
CUSTOMIZED = "customized_quantize_layers"

# A line at column 0 that may be content (not indented, not a comment, not blank), found
# from the newline before it: a literal first byte is ten times faster than `^` + MULTILINE.
_TOP_LEVEL_LINE = re.compile(rb"\n[^ #\r\n]")


def _fieldless_re(key_indent: int) -> re.Pattern[bytes]:
    """A tensor key line directly followed by another key line or a top-level line."""
    return re.compile(rb"':\r?\n(?:" + b" " * key_indent + rb"'|[^ \r\n#])")


class FrontCheck(Protocol):
    """The front of the table of `data` (from its first tensor key line `start` to the key line
    at `cut`) checked elsewhere with the fast regex `source`: a forked child,
    core/format/split_scan.py. The walk goes on from the cut as if the front were all
    ordinary tensors (Walker.speculated); the scan is not verified until the check holds."""

    data: bytes
    start: int
    cut: int
    source: bytes  # the fast regex's

    def holds(self) -> bool:
        """re.compile(source).match(data, start, cut) ends at cut."""

    def close(self) -> None:
        """Done with it (a child process is reaped)."""


class TopLevel(NamedTuple):
    """A top-level key: its header line and the indented body under it (byte offsets)."""

    key: str
    start: int  # offset of the header line
    body_start: int  # offset just past the header line
    end: int  # offset just past the body (start of the next top-level line, or EOF)
    value: str  # inline value on the header line ('' for a block)


class Scan:
    """A file's index. Not a dataclass: dataclasses imports inspect and ast, 7 ms of every
    `add` (whose whole budget is 2x vim's open)."""

    __slots__ = ("data", "entries", "key_indent", "field_indent", "newline", "legacy",
                 "double_quoted_keys", "verified", "refusals", "unconfirmed")

    def __init__(self, data: bytes, entries: dict[str, TopLevel] | None = None,
                 key_indent: int = 2, field_indent: int = 4, newline: str = "\n",
                 legacy: bool = False, double_quoted_keys: bool | None = None,
                 verified: bool = False,
                 refusals: list[tuple[int, str, str]] | None = None,
                 unconfirmed: FrontCheck | None = None) -> None:
        self.data = data
        self.entries: dict[str, TopLevel] = {} if entries is None else entries
        self.key_indent = key_indent
        self.field_indent = field_indent
        self.newline = newline
        self.legacy = legacy  # 6.0.x / RKNN: `%YAML`, `---`, `dtype:` fields
        self.double_quoted_keys = double_quoted_keys  # any `"KEY":` in the table; on first need
        self.verified = verified  # the full scan passed (not just the top-level index)
        # (line offset, kind, why) of each line the engine's YAML loader refuses (the lines
        # the walk read; the full scan reads every line that can be one)
        self.refusals: list[tuple[int, str, str]] = [] if refusals is None else refusals
        # The front of the table checked elsewhere, its answer not yet read: a full scan that
        # may still fail (core/format/split_scan.py confirm)
        self.unconfirmed = unconfirmed

    def replace(self, **changes: object) -> Scan:
        """A copy with these fields changed (dataclasses.replace's contract)."""
        unknown = set(changes) - set(self.__slots__)
        if unknown:
            raise TypeError(f"Scan has no field {sorted(unknown)[0]!r}")
        new = Scan.__new__(Scan)
        for name in self.__slots__:
            setattr(new, name, changes.get(name, getattr(self, name)))
        return new


def newline_of(data: bytes) -> str:
    """The file's newline, as its first line ends."""
    first_nl = data.find(b"\n")
    return "\r\n" if first_nl > 0 and data[first_nl - 1 : first_nl] == b"\r" else "\n"


def line_of(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def _line_end(data: bytes, pos: int) -> int:
    """Offset just past the line starting at pos (its newline included)."""
    nl = data.find(b"\n", pos)
    return len(data) if nl < 0 else nl + 1


def _bad_line(data: bytes, pos: int, path: str, why: str) -> ReadError:
    end = _line_end(data, pos)
    text = data[pos:end].decode("utf-8").rstrip("\r\n")
    if text.count("'") % 2 or text.count('"') % 2:
        why = "unclosed quote"
    shown = text if len(text) <= 60 else text[:57] + "..."
    col = len(text) - len(text.lstrip(" ")) + 1
    return ReadError(f"{why}: {shown!r}", path, line_of(data, pos), col)


def _classify(data: bytes, pos: int, path: str) -> tuple[re.Match[str], int]:
    end = _line_end(data, pos)
    text = data[pos:end].decode("utf-8").rstrip("\n")
    match = LINE_RE.fullmatch(text)
    if match is None:
        raise _bad_line(data, pos, path, "not valid .quantize YAML")
    return match, end


def first_field_indent(data: bytes, body_start: int) -> tuple[int, int]:
    """Indentation of the first tensor key and of its first field."""
    pos = body_start
    found: list[int] = []
    while pos < len(data) and len(found) < 2:
        end = _line_end(data, pos)
        text = data[pos:end].rstrip(b"\r\n")
        stripped = text.lstrip(b" ")
        if stripped and not stripped.startswith(b"#"):
            indent = len(text) - len(stripped)
            if indent == 0:
                break
            found.append(indent)
        pos = end
    if not found:
        return 2, 4
    if len(found) == 1 or found[1] <= found[0]:
        # A bad first field is reported by the careful path; guess the usual layout.
        return found[0], found[0] * 2
    return found[0], found[1]


class Walker:
    """Line by line through the file, jumping over runs of ordinary tensors with the fast regex."""

    def __init__(self, result: Scan, path: str, front: FrontCheck | None = None) -> None:
        self.result, self.data, self.path = result, result.data, path
        self.front = front
        self.speculated = False  # the front was taken as checked (self.front will say)
        self.careful: list[list[int]] = []  # [start, end) of the runs of lines read one by one
        self.stream = Stream()
        self.shape = Structure()
        self.top: tuple[str, int, int, str] | None = None  # key, start, body_start, value
        self.fast: re.Pattern[bytes] | None = None
        self.key_prefix = b""

    def _close(self, end: int) -> None:
        if self.top is not None:
            key, start, body_start, value = self.top
            self.result.entries[key] = TopLevel(key, start, body_start, end, value)
            self.top = None

    def walk(self, pos: int) -> None:
        data = self.data
        blocked = -1  # a key line the careful path must read itself (the fast path stopped there)
        while pos < len(data):
            if (
                self.fast is not None and pos > blocked
                and data.startswith(self.key_prefix, pos)
                and self.shape.accepts_key_at(self.result.key_indent)
            ):
                after = self._fast_end(self.fast, pos)
                if after >= len(data):
                    pos = after
                    break
                if after > pos:
                    # Re-read the last tensor carefully: the line that stopped the fast path
                    # may be valid YAML the regex does not cover (comments, deeper lists).
                    pos = data.rfind(b"\n" + self.key_prefix, pos - 1, after) + 1
                    blocked = pos
                    self.shape.reset_in_table(self.result.key_indent)
            end = self.read_line(pos)
            if self.careful and self.careful[-1][1] == pos:
                self.careful[-1][1] = end
            else:
                self.careful.append([pos, end])
            pos = end
        self._close(len(data))

    def _fast_end(self, fast: re.Pattern[bytes], pos: int) -> int:
        """fast.match(data, pos).end(); from the front check's start, the end of the run from
        its cut, the front taken as ordinary tensors. That is the whole run's end exactly when
        the front check holds: a run that stops at the cut itself, the start of a tensor key
        line, goes on from there as the whole run would (each tensor is matched on its own,
        possessively, and no field or item line starts with a key line's indent and quote)."""
        front = self.front
        if (front is not None and pos == front.start and front.cut < len(self.data)
                and front.data is self.data and front.source == fast.pattern):
            self.speculated = True
            pos = front.cut
        return fast.match(self.data, pos).end()  # type: ignore[union-attr]

    def walk_top_level(self, pos: int) -> None:
        """Only the lines at column 0 (top-level keys, document markers), each read as the
        full walk reads it; the indented lines between them are skipped unread."""
        data = self.data
        if pos < len(data) and data[pos : pos + 1] not in (b" ", b"#", b"\r", b"\n"):
            pos = self.read_line(pos)
        search = _TOP_LEVEL_LINE.search
        match = search(data, max(0, pos - 1))
        while match is not None:
            self.shape.reset_top_level()
            pos = self.read_line(match.start() + 1) - 1
            match = search(data, pos)
        self._close(len(data))

    def read_line(self, pos: int) -> int:
        match, end = _classify(self.data, pos, self.path)
        refused = line_refusal(match.string)
        if refused is not None:
            self.result.refusals.append((pos, *refused))
        try:
            if match["blank"] is not None:
                return end
            if match["marker"] is not None:
                if match["indent"]:
                    raise ShapeError("directives and document markers must start at column 0")
                self.stream.marker(match["marker"])
                self.result.legacy = True
                self._close(pos)
                self.fast = None
                return end
            self.stream.content()
            indent = len(match["indent"])
            is_item = match["item"] is not None
            has_value = (match["ivalue"] if is_item else match["value"]) is not None
            self.shape.feed(indent, is_item, has_value)
        except ShapeError as exc:
            raise _bad_line(self.data, pos, self.path, str(exc)) from None
        if indent == 0:
            if is_item:
                raise _bad_line(self.data, pos, self.path,
                                "expected a top-level key, found a list item")
            self._top_level(match, pos, end)
        elif self.fast is not None and indent == self.result.key_indent:
            self._tensor_key(match, pos)
        return end

    def _top_level(self, match: re.Match[str], pos: int, end: int) -> None:
        key = _plain_key(match["key"])
        if key in self.result.entries or (self.top is not None and self.top[0] == key):
            raise ReadError(f"duplicate top-level key {key!r}", self.path,
                            line_of(self.data, pos), 1)
        self._close(pos)
        value = match["value"] or ""
        self.top = (key, pos, end, value)
        self.fast = None
        if key == QUANTIZE_PARAMETERS and not value:
            ki, fi = first_field_indent(self.data, end)
            self.result.key_indent, self.result.field_indent = ki, fi
            newline = self.result.newline
            layouts = learn_layouts(self.data, end, ki, fi, newline)
            self.fast = fast_body_re(ki, fi, newline, layouts)
            self.key_prefix = b" " * ki + b"'"

    def _tensor_key(self, match: re.Match[str], pos: int) -> None:
        token = match["key"] or ""  # None: a list item where a tensor key belongs
        if match["value"] is not None or token[:1] not in ("'", '"'):
            raise _bad_line(self.data, pos, self.path,
                            "expected a quoted tensor key line '@LAYER:PORT':")
        if token[:1] == '"':
            self.result.double_quoted_keys = True  # (scan() says False when none was seen)
        if token[:1] == '"' and "\\" in token:
            raise _bad_line(self.data, pos, self.path, "escapes in tensor keys are not supported")


def _plain_key(token: str) -> str:
    if token[:1] == "'":
        return unquote_single(token[1:-1])
    if token[:1] == '"':
        return token[1:-1]
    return token


def check_shape(result: Scan, path: str, *, tensors: bool = True,
                careful: list[list[int]] | None = None) -> None:
    """The file's overall shape; `tensors=False` (the fast index) leaves the search of the
    whole table for fieldless tensors to the full scan (`careful`: its walk's spans of lines
    read one by one, the only places one can be)."""
    params = result.entries.get(QUANTIZE_PARAMETERS)
    if params is None:
        raise ReadError("not a .quantize file: no quantize_parameters", path)
    if params.value not in ("", "{}"):
        raise ReadError(
            "not a .quantize file: quantize_parameters is not a mapping",
            path,
            line_of(result.data, params.start),
        )
    if tensors:
        _check_tensors_have_fields(result, params, path, careful)
    custom = result.entries.get(CUSTOMIZED)
    if custom is None:
        raise ReadError(
            "no customized_quantize_layers (a truncated or incomplete .quantize file?)", path
        )
    if custom.value not in ("", "{}") and not custom.value.startswith("{"):
        raise ReadError(
            "customized_quantize_layers is not a mapping", path, line_of(result.data, custom.start)
        )
    result.legacy = result.legacy or b"\n" + b" " * result.field_indent + b"dtype:" in (
        result.data[params.body_start : params.body_start + 4096]
    )


def _check_tensors_have_fields(result: Scan, params: TopLevel, path: str,
                               careful: list[list[int]] | None) -> None:
    """A tensor key directly followed by another key (or by the end) lost its fields."""
    data = result.data
    ki = b" " * result.key_indent
    at = _first_fieldless(result, params, careful)
    if at < 0:
        tail = params.end
        while tail > params.body_start and data[tail - 1 : tail] in (b"\n", b"\r", b" "):
            tail -= 1
        if data[tail - 2 : tail] != b"':":
            return
        at = tail
    line_start = data.rfind(b"\n", 0, at) + 1
    if not data.startswith(ki + b"'", line_start):
        return
    raise ReadError(
        "tensor has no fields (a truncated .quantize file?)", path, line_of(data, line_start)
    )


def _first_fieldless(result: Scan, params: TopLevel, careful: list[list[int]] | None) -> int:
    """Where _fieldless_re first matches in the table (-1: nowhere). A match starts with the
    `':` ending a key line; in a run of the fast regex every key line is followed by a field
    line, so only spans read carefully are searched (a match is at most key indent + 5 bytes
    long, so it ends within that many bytes after its span)."""
    data, lo, hi = result.data, params.body_start, params.end + 1
    empty = _fieldless_re(result.key_indent)
    for start, end in [[lo, hi]] if careful is None else careful:
        if end <= lo or start >= hi:
            continue
        found = empty.search(data, max(start, lo), min(end + result.key_indent + 8, hi))
        if found is not None:
            return found.start()
    return -1
