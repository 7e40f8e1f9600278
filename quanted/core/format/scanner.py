"""A .quantize file's structure and every byte-level query of its tensor table.

Two ways in: `scan` walks every line (the full validation: `check`, saves of a file not
yet verified, the editor's background); `index` reads only the top-level lines and the
customized block (opening for an edit). Both give the same `Scan` for every file the full
scan accepts (tests/core/test_fast_open.py). The readers below find tensor key lines with
ONE regex, `TENSOR_KEY`, for single- and double-quoted keys alike.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache
from typing import NamedTuple

from quanted.core.errors import ReadError
from quanted.core.format.keys import (
    DOUBLE_QUOTED,
    SINGLE_QUOTED,
    layer_of,
    quote_single,
    split_tensor_key,
    unquote_key,
)
from quanted.core.format.walker import (
    CUSTOMIZED,
    QUANTIZE_PARAMETERS,
    FrontCheck,
    Scan,
    TopLevel,
    Walker,
    check_shape,
    line_of,
    newline_of,
)
from quanted.core.format.yamlshape import MAP

__all__ = ["CUSTOMIZED", "QUANTIZE_PARAMETERS", "Scan", "TensorQtype", "TopLevel", "line_of"]

# THE tensor key: a quoted token at the table's key indent, then `:`. Every reader below
# (keys, qtypes, one tensor's fields, layer lookup) finds key lines with it.
TENSOR_KEY = rf"(?P<key>{SINGLE_QUOTED}|{DOUBLE_QUOTED})[ ]*:"
_FIELD_VALUE = rf"(?:{SINGLE_QUOTED}|{DOUBLE_QUOTED}|[^\s#'\"][^\s#]*)"


_NON_SPACE = re.compile(rb"\S")


def _column(data: bytes, offset: int) -> int:
    return offset - (data.rfind(b"\n", 0, offset) + 1) + 1


def check_text(data: bytes, path: str) -> None:
    """Text the walk can read: not empty, not binary, UTF-8, no tab."""
    if _NON_SPACE.search(data) is None:
        raise ReadError("empty file, not a .quantize file", path)
    if b"\x00" in data:
        raise ReadError("binary data, not a .quantize file", path)
    try:
        if not data.isascii():
            data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ReadError("not UTF-8 text, not a .quantize file", path, line_of(data, exc.start),
                        _column(data, exc.start)) from None
    tab = data.find(b"\t")
    if tab >= 0:
        raise ReadError("tab character (ACUITY files disallow tabs)", path, line_of(data, tab),
                        _column(data, tab))


def _start(data: bytes, path: str, text_checked: bool = False) -> tuple[Scan, int]:
    if not text_checked:
        check_text(data, path)
    result = Scan(data=data, newline=newline_of(data))
    return result, 3 if data.startswith(b"\xef\xbb\xbf") else 0


def scan(data: bytes, path: str = "<input>", text_checked: bool = False,
         front: FrontCheck | None = None) -> Scan:
    """The full scan: index the structure, checking every line; ReadError for anything that
    is not a .quantize file. `text_checked`: check_text passed on these very bytes (the index
    did it; 2 ms at 15 MB). `front`: the front of the table checked elsewhere; when the walk
    took it as checked, the scan is verified only once split_scan.confirm says it holds."""
    result, pos = _start(data, path, text_checked)
    walker = Walker(result, path, front)
    walker.walk(pos)
    check_shape(result, path, careful=walker.careful)
    if walker.speculated:
        result.unconfirmed = front
    else:
        result.verified = True
    if result.double_quoted_keys is None:
        # Every key line of the table was read by the fast regex (single-quoted keys only) or
        # carefully (Walker._tensor_key notes a double-quoted one): none, without a search
        # of the table for `"` (a millisecond at 15 MB) at the first lookup of a layer.
        result.double_quoted_keys = False
    return result


def index(data: bytes, path: str = "<input>") -> Scan:
    """The fast open: the same index from the top-level lines only (about a tenth of the
    full scan). Lines inside the tensor table are not checked: `verified` stays False until
    `scan` has passed, and nothing may be written from an unverified index."""
    result, pos = _start(data, path)
    try:
        Walker(result, path).walk_top_level(pos)
        check_shape(result, path, tensors=False)
    except ReadError:
        scan(data, path, text_checked=True)  # the full scan's error (the first bad line)
        raise
    return result


# Lines the careful walk reads as `KEY: VALUE` at one indent (a plain or single-quoted key, a
# plain value, maybe a trailing comment), and blank and comment lines: a subset of LINE_RE's
# key and blank lines, none of which changes the block structure after the first such entry.
_PLAIN_KEY = rb"(?:[A-Za-z_/][-A-Za-z0-9_./]*|'[^'\r\n]*(?:''[^'\r\n]*)*')"


@lru_cache(maxsize=8)
def _entry_run(indent: int) -> re.Pattern[bytes]:
    entry = b" " * indent + _PLAIN_KEY + rb"[ ]*:[ ]+[A-Za-z_][-A-Za-z0-9_.]*"
    end = rb"(?:[ ]+\#[^\r\n]*)?[ ]*\r?(?:\n|\Z)"
    return re.compile(rb"(?:" + entry + end + rb"|[ ]*(?:\#[^\r\n]*)?\r?\n)*+")


def check_block(text: str, path: str, legacy: bool) -> None:
    """The full scan's verdict on one rendered customized block (a top-level entry: the walk
    starts and ends at column 0, so the rest of a verified file cannot change it). Once a
    `KEY: VALUE` entry has set the block's indent, runs of entries like it are passed over by
    one regex: the careful walk took 1.1 s for a bulk add's 200,000 lines, each a save."""
    data = text.encode("utf-8")
    walker = Walker(Scan(data=data), path)
    walker.stream.started = legacy  # after `---`
    shape, pos = walker.shape, 0
    while pos < len(data):
        pos = walker.read_line(pos)
        if (shape.open is None and len(shape.stack) == 2 and shape.stack[1][1] == MAP
                and not walker.stream.ended):
            pos = _entry_run(shape.stack[1][0]).match(data, pos).end()  # type: ignore[union-attr]


def moved(result: Scan, key: str, new_end: int) -> dict[str, TopLevel]:
    """The entries once the body of `key` ends at `new_end` (the entries after it shift
    by the size difference: no second scan after a save changed one block)."""
    end = result.entries[key].end
    delta = new_end - end
    shifted = {}
    for name, entry in result.entries.items():
        if name == key:
            entry = entry._replace(end=new_end)
        elif entry.start >= end:
            entry = entry._replace(start=entry.start + delta,
                                   body_start=entry.body_start + delta, end=entry.end + delta)
        shifted[name] = entry
    return shifted


def _key_line(key_indent: int) -> re.Pattern[bytes]:
    return re.compile(rb"\n" + b" " * key_indent + TENSOR_KEY.encode())


def _table(result: Scan) -> tuple[int, int]:
    """The tensor table's bytes, from the newline before its first line (so every key line,
    the first one too, is preceded by one) to its end."""
    params = result.entries[QUANTIZE_PARAMETERS]
    return params.body_start - 1, params.end


def pieces(data: bytes, start: int, end: int, key_indent: int,
           size: int) -> list[tuple[int, int]]:
    """[start, end) of the table cut into pieces of about `size` bytes, each cut at the
    newline before a single-quoted tensor key line (so no entry and no key line is split)."""
    needle = b"\n" + b" " * key_indent + b"'"
    cuts = [start]
    while end - cuts[-1] > size:
        cut = data.find(needle, cuts[-1] + size, end)
        if cut < 0:
            break
        cuts.append(cut)
    cuts.append(end)
    return list(zip(cuts, cuts[1:]))


# The table is read in pieces of this many bytes: all its key lines at once held three
# copies of the keys (matches, joined, decoded) beside the list, 140 MB at 150 MB.
_PIECE = 1 << 23


def tensor_keys(result: Scan) -> list[str]:
    """Every tensor key of quantize_parameters, in file order (about 30 ms for 60,000)."""
    keys: list[str] = []
    for found in tensor_key_pieces(result):
        keys += found
    return keys


def tensor_key_pieces(result: Scan, size: int = _PIECE) -> Iterator[list[str]]:
    """tensor_keys a piece of about `size` bytes of the table at a time: a reader that folds
    them into something smaller (core/format/tensor_index.py) never holds them all."""
    table_start, table_end = _table(result)
    pattern = _key_line(result.key_indent)
    for start, end in pieces(result.data, table_start, table_end, result.key_indent, size):
        found = pattern.findall(result.data, start, end)
        if not found:
            continue
        # One decode for all keys: 60,000 separate decodes cost as much as the search.
        joined = b"\n".join(found)
        del found
        if b"''" in joined or b'"' in joined:
            yield [unquote_key(token) for token in joined.decode("utf-8").split("\n")]
        else:  # single quotes only, none escaped: dropped before the decode, one list less
            yield joined.replace(b"'", b"").decode("utf-8").split("\n")


def group_by_layer(keys: list[str]) -> dict[str, list[str]]:
    """Layer id -> its tensor keys, in order (split_tensor_key inlined: 600,000 calls of it
    were a third of opening 150 MB; a call of layer_of per key, 6% more at 15 MB)."""
    layers: dict[str, list[str]] = {}
    # A generator, not a list: 600,000 names at once were 48 MB at 150 MB.
    names = (k[1:].rpartition(":")[0] if k[:1] == "@" else k.rpartition(":")[0] for k in keys)
    for name, key in zip(names, keys):
        if not name:  # no ':' (or nothing before it): as layer_of reads it
            name = layer_of(key)
        found = layers.get(name)
        if found is None:
            layers[name] = [key]
        else:
            found.append(key)
    return layers


def layer_names(keys: list[str]) -> set[str]:
    """set(group_by_layer(keys)), holding only the distinct names (a quarter of the memory);
    layer_of inlined (its call per key was 12% more at 15 MB)."""
    return {(k[1:] if k[:1] == "@" else k).rpartition(":")[0] or layer_of(k) for k in keys}


def tensor_qtypes(result: Scan) -> dict[str, tuple[str, str]]:
    """Every tensor key -> (quantizer, qtype), in one pass over the table. The legacy layout's
    `dtype:` is its quantizer."""
    ki = result.key_indent
    pattern = re.compile(
        rb"\n" + b" " * ki + TENSOR_KEY.encode()
        + rb"|\n {%d,}(?P<field>qtype|quantizer|dtype)[ ]*:[ ]+(?P<value>" % (ki + 1)
        + _FIELD_VALUE.encode() + rb")"
    )
    found: dict[str, tuple[str, str]] = {}
    # The few distinct values and pairs, each held once: a fresh str per field and a tuple
    # per tensor were 100 MB at 150 MB.
    scalars: dict[bytes, str] = {}
    pairs: dict[tuple[str, str], tuple[str, str]] = {}
    current: str | None = None
    quantizer = qtype = ""
    start, end = _table(result)
    for key, field_name, value in pattern.findall(result.data, start, end):
        if key:
            if current is not None:
                pair = (quantizer, qtype)
                found[current] = pairs.setdefault(pair, pair)
            current = unquote_key(key.decode("utf-8"))
            quantizer = qtype = ""
            continue
        text = scalars.get(value)
        if text is None:
            text = scalars[value] = _scalar(value)
        if field_name == b"qtype":
            qtype = text
        else:
            quantizer = text
    if current is not None:
        pair = (quantizer, qtype)
        found[current] = pairs.setdefault(pair, pair)
    return found


class TensorQtype(NamedTuple):
    """One tensor of quantize_parameters: its key, port, quantizer and qtype."""

    key: str
    port: str  # "out0", "weight", "bias", ...
    quantizer: str
    qtype: str


def qtypes_by_layer(result: Scan) -> dict[str, list[TensorQtype]]:
    """Layer id -> its tensors' quantizer and qtype, in file order."""
    layers: dict[str, list[TensorQtype]] = {}
    for key, (quantizer, qtype) in tensor_qtypes(result).items():
        layer, port = split_tensor_key(key)
        layers.setdefault(layer, []).append(TensorQtype(key, port, quantizer, qtype))
    return layers


def _scalar(token: bytes) -> str:
    text = token.decode("utf-8")
    return unquote_key(text) if text[:1] in ("'", '"') else text


def _key_lines(result: Scan, key_prefix: str) -> Iterator[tuple[int, str]]:
    """(offset, key) of each key line whose key starts with `key_prefix`: a byte search per
    quoting (double quotes only when the table has any), each hit read with the key regex."""
    start, end = _table(result)
    data = result.data
    indent = b"\n" + b" " * result.key_indent
    key_re = _key_line(result.key_indent)
    needles = [indent + b"'" + quote_single(key_prefix).encode()]
    if _has_double_quoted_keys(result) and not set(key_prefix) & {'"', "\\"}:
        needles.append(indent + b'"' + key_prefix.encode())
    for needle in needles:
        pos = data.find(needle, start, end)
        while pos >= 0:
            match = key_re.match(data, pos, end)
            if match is not None:
                yield pos, unquote_key(match["key"].decode("utf-8"))
            pos = data.find(needle, pos + 1, end)


def _has_double_quoted_keys(result: Scan) -> bool:
    if result.double_quoted_keys is None:
        start, end = _table(result)
        needle = b"\n" + b" " * result.key_indent + b'"'
        # A lone `"` first: memchr over the table is ten times faster than the needle search
        # (which stops at every key line's newline), and most tables have none.
        result.double_quoted_keys = (result.data.find(b'"', start, end) >= 0
                                     and result.data.find(needle, start, end) >= 0)
    return result.double_quoted_keys


def has_layer(result: Scan, layer: str) -> bool:
    """True when some tensor `@LAYER:PORT` exists, without reading the whole table."""
    return any(layer_of(key) == layer for _, key in _key_lines(result, f"@{layer}:"))


_FIELD_LINE = re.compile(
    rf"[ ]+(?P<name>[A-Za-z_][A-Za-z0-9_]*)[ ]*:"
    rf"(?:[ ]+(?P<value>{SINGLE_QUOTED}|{DOUBLE_QUOTED}|[^\s#'\"][^#]*?))?(?:[ ]+\#.*)?[ ]*"
)


def tensor_fields(result: Scan, key: str) -> dict[str, str]:
    """The scalar fields of one tensor entry (the first, if listed twice); KeyError if absent.
    A field holding a list reads as ''; an inline list `[a, b]` as written."""
    at = min((pos for pos, found in _key_lines(result, key) if found == key), default=None)
    if at is None:
        raise KeyError(key)
    data = result.data
    body_start = data.find(b"\n", at + 1) + 1
    deeper = re.compile(rb"(?: {%d,}[^\n]*(?:\n|\Z)|[ ]*(?:#[^\n]*)?\r?\n)*"
                        % (result.key_indent + 1))
    body_end = deeper.match(data, body_start, _table(result)[1]).end()  # type: ignore[union-attr]
    fields: dict[str, str] = {}
    for line in data[body_start:body_end].decode("utf-8").splitlines():
        match = _FIELD_LINE.fullmatch(line)
        if match is not None:
            value = match["value"] or ""
            fields[match["name"]] = unquote_key(value) if value[:1] in ("'", '"') else value
    return fields


