"""The full scan's fast regex: runs of whole, ordinary tensors checked in C, most of the scan's
time (a 15 MB table is 540,000 lines; docs/format.md section 6).

A table's tensors share a few layouts (a 6.57 uint8 file: every tensor has the same eight
fields, in the same order), so the regex first tries each layout learned from a sample of
the table, spelled out field by field, and only then the general `field: token` lines: a
field name matched as literal bytes costs less than one matched by class and repeat, and
the branch between a scalar and a list is gone. What a learned layout takes is exactly what
the general lines take (same tokens, same items, and no field line may follow it), so the
layouts change the speed, never the verdict (tests/core/test_walker_fast_regex.py).
"""

from __future__ import annotations

import re

_LONGEST = 1000  # bytes of a key, field name or value the fast regex takes (see engine_yaml)

# A field's name and what follows it: a scalar (` token`) or a list (items on the next lines).
Layout = tuple[tuple[bytes, bool], ...]

_NAME = re.compile(rb"[A-Za-z_][0-9A-Za-z_]{0,%d}:" % (_LONGEST - 1))
MAX_LAYOUTS = 3
_SAMPLED = 4  # tensors read at each of the sample's places
_PLACES = 4  # the table's start and three quarters of the file


def fast_body_re(key_indent: int, field_indent: int, newline: str = "\n",
                 layouts: tuple[Layout, ...] = ()) -> re.Pattern[bytes]:
    """The fast regex, compiled (fast_body_source)."""
    return re.compile(fast_body_source(key_indent, field_indent, newline, layouts))


def fast_body_source(key_indent: int, field_indent: int, newline: str = "\n",
                     layouts: tuple[Layout, ...] = ()) -> bytes:
    """Runs of whole, ordinary tensors: `  'KEY':`, then `    field: token` lines, where a
    value-less field may be followed by `    -   token` items (the legacy layout). A key
    with no field stops it: fieldless tensors are then looked for in the lines read
    carefully only (walker._first_fieldless). `layouts` are tried first (learn_layouts).

    Written for sre's speed, each choice measured (15 MB table: 76 ms before, 50-56 after,
    39-44 with its one learned layout): classes spelled out (bytes `\\w` is a second test after
    the bitmap, for every byte); possessive repeats everywhere (no backtracking state); a
    token's optional sign as `-?+`, not a branch; only the file's own newline (`\\r?\\n`
    costs a tenth). What it does not take (`--x`, a line ending the other way) the careful
    path reads: same verdict, slower. Nor does it take what the engine's YAML loader refuses
    (core/format/engine_yaml.py: control characters and line breaks, which start with the
    bytes left out of a key, keys and numbers longer than _LONGEST): the careful path finds
    them (Scan.refusals)."""
    ki = b" " * key_indent
    fi = b" " * field_indent
    nl = re.escape(newline.encode())
    token = rb"-?+[.+0-9A-Za-z_~][-.+0-9A-Za-z_~]{0,%d}+" % _LONGEST
    items = rb"(?:" + fi + rb"-[ ]++" + token + nl + rb")*+"
    field_line = (fi + rb"[A-Za-z_][0-9A-Za-z_]{0,%d}+:(?: " % _LONGEST + token + nl + rb"|"
                  + nl + items + rb")")
    key_line = ki + rb"'[^'\x00-\x1f\x7f\xc2\xe2\xef]{0,%d}+':" % _LONGEST + nl
    # A learned layout ends where the general lines would: no field line follows it. One
    # without fields would take a tensor without fields, which the general lines leave; a
    # name the general lines would not take is no layout either.
    no_more = rb"(?!" + fi + rb"[A-Za-z_])"
    spelled = [b"".join(fi + name + (b":" + nl + items if is_list else b": " + token + nl)
                        for name, is_list in layout) + no_more
               for layout in layouts
               if layout and all(_NAME.fullmatch(name + b":") for name, _ in layout)]
    fields = b"|".join([*spelled, rb"(?:" + field_line + rb")++"])
    return rb"(?:" + key_line + rb"(?:" + fields + rb"))*+"


def learn_layouts(data: bytes, body_start: int, key_indent: int, field_indent: int,
                  newline: str = "\n") -> tuple[Layout, ...]:
    """The commonest field layouts (MAX_LAYOUTS at most) of a few tensors read at the table's
    start and at each quarter of the file. A guess that only orders the regex's branches:
    a wrong one costs a branch tried and left, nothing else."""
    key_start = b"\n" + b" " * key_indent + b"'"
    seen: dict[Layout, int] = {}  # not a Counter: its most_common imports heapq (0.5 ms)
    for place in range(_PLACES):
        pos = body_start if place == 0 else data.find(key_start, len(data) * place // _PLACES)
        if pos < 0:
            continue
        if place:
            pos += 1
        for _ in range(_SAMPLED):
            layout, pos = _layout_at(data, pos, key_indent, field_indent, newline.encode())
            if not layout:
                break
            seen[layout] = seen.get(layout, 0) + 1
    # The commonest first; sorted() keeps the first seen first among equals.
    return tuple(sorted(seen, key=seen.__getitem__, reverse=True)[:MAX_LAYOUTS])


def _layout_at(data: bytes, pos: int, key_indent: int, field_indent: int,
               nl: bytes) -> tuple[Layout, int]:
    """The layout of the tensor whose key line starts at `pos`, and where the line after its
    fields starts; () where no tensor key line is."""
    if not data.startswith(b" " * key_indent + b"'", pos):
        return (), pos
    fi = b" " * field_indent
    pos = data.find(nl, pos) + len(nl)
    fields: list[tuple[bytes, bool]] = []
    while pos >= len(nl) and data.startswith(fi, pos):
        at = pos + field_indent
        end = data.find(nl, at)
        if end < 0:
            break
        if data.startswith(b"-", at):  # an item of the list field before
            pos = end + len(nl)
            continue
        name = _NAME.match(data, at)
        if name is None:
            break
        after = name.end()
        if after == end or data.startswith(b" ", after):
            fields.append((data[at : after - 1], after == end))
        else:
            break
        pos = end + len(nl)
    return tuple(fields), pos
