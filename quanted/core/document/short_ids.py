"""Long layer ids in a narrow column, shortened so that rows can still be told apart: the
editor's table and the CLI's tables on a terminal both write them so.

`MobilenetV1/MobilenetV1/Conv2d_13_depthwise/depthwise_73` beside
`MobilenetV1/MobilenetV1/Conv2d_7_pointwise/Conv2D_45`: what the rows share goes first, as
`…`: the `/`-separated segments every neighbour has at the same place, or for an id without
`/` the leading `_`/`.`-separated words every neighbour starts with. Then the other leading
segments, leftmost first: the segments nearest the layer's own name say most about it. The last
segment (the layer's own name and unique number) always stays; the one before it is cut at its
end only when the two alone do not fit. A plain head-and-tail cut is the last resort.

Widths are terminal cells (wide East Asian characters take two). Imports nothing of Textual.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

ELLIPSIS = "…"
# The importer's suffix on an ONNX node's name: `Relu_output_0_11534` is node `Relu`, uid 11534.
_IMPORTER_SUFFIX = re.compile(r"_output_\d+_(\d+)$")
# A converter's suffix (core.document.layers.CONVERTER_NAME) keeps only its two qtypes:
# `depthwise_13_pre_asymmetric_affineu8_to_dynamic_fixed_pointi16_12`
# -> `depthwise_13_pre:u8→i16_12`.
_QUANTIZER = (r"(?:perchannel_symmetric_affine|asymmetric_affine|symmetric_affine"
              r"|dynamic_fixed_point|qbfloat16|bfloat16|float16|float32)")
_CONVERTER_SUFFIX = re.compile(
    rf"_(pre|next)_{_QUANTIZER}([a-z]*\d*)_to_{_QUANTIZER}([a-z]*\d*)_(\d+)$")
_WORD_END = re.compile(r"(?<=[_.])")  # after each `_` or `.`: words keep their separator


def cells(text: str) -> int:
    """Terminal cells `text` takes."""
    if text.isascii():
        return len(text)
    return sum(_char_cells(ch) for ch in text)


def _char_cells(ch: str) -> int:
    if unicodedata.combining(ch):
        return 0
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def crop(text: str, width: int) -> str:
    """The start of `text` in at most `width` cells."""
    if cells(text) <= width:
        return text
    out, used = [], 0
    for ch in text:
        size = _char_cells(ch)
        if used + size > width:
            break
        out.append(ch)
        used += size
    return "".join(out)


def _tail(text: str, width: int) -> str:
    return crop(text[::-1], width)[::-1]


def short_converter(text: str) -> str:
    return _CONVERTER_SUFFIX.sub(lambda m: f"_{m[1]}:{m[2]}→{m[3]}_{m[4]}", text)


def cut_middle(text: str, width: int) -> str:
    """The last resort: head and tail with `…` between, the tail (the unique number) longer."""
    if width < 8:
        return crop(text, width)
    tail = (width - 1) * 2 // 3
    head = width - 1 - tail
    return crop(text, head) + ELLIPSIS + _tail(text, tail)


def _sharing(segments: list[str], neighbours: Sequence[str]) -> tuple[list[int], list[int]]:
    """Positions of the leading segments every neighbour has at the same place, and of those
    at least half of them have there (every one when there is no neighbour to tell it from):
    `MobilenetV1/MobilenetV1/` beside a few `MobilenetV1/Logits/` says little."""
    others = [n.split("/") for n in neighbours if n]
    every: list[int] = []
    some: list[int] = []
    for i, seg in enumerate(segments[:-1]):
        same = [i < len(o) - 1 and o[i] == seg for o in others]
        if same and all(same):
            every.append(i)
        elif 2 * sum(same) >= len(others):
            some.append(i)
    return every, some


def _join(segments: list[str], keep: list[bool]) -> str:
    """The kept segments, each run of dropped ones written once as `…`."""
    out: list[str] = []
    for seg, kept in zip(segments, keep):
        if kept:
            out.append(seg)
        elif not out or out[-1] != ELLIPSIS:
            out.append(ELLIPSIS)
    return "/".join(out)


def _flat(layer: str, width: int, neighbours: Sequence[str]) -> str:
    """An id without `/`: the leading words every neighbour starts with go first."""
    words = _WORD_END.split(layer)
    others = [_WORD_END.split(n) for n in neighbours if n]
    common = 0
    while others and common < len(words) - 1 and all(
            common < len(o) - 1 and o[common] == words[common] for o in others):
        common += 1
    rest = "".join(words[common:])
    if common and cells(rest) + 1 <= width:
        return ELLIPSIS + rest
    return cut_middle(layer, width)


def elide(layer: str, width: int, neighbours: Sequence[str] = (),
          keep: tuple[int, int] | None = None) -> str:
    """`layer` in at most `width` cells (not padded), keeping what tells it from `neighbours`
    (the rows above and below); `keep`, a span of `layer` (what a filter matched), stays
    whole when it fits."""
    if width <= 0:
        return ""
    if cells(layer) <= width:
        return layer
    if keep is not None:
        shown = _elide(layer, width, neighbours)
        matched = layer[keep[0]:keep[1]]
        return shown if matched in shown else around(layer, width, *keep)
    return _elide(layer, width, neighbours)


def around(layer: str, width: int, start: int, end: int) -> str:
    """`layer` in `width` cells keeping [start, end): the match with what follows it, and the
    id's last characters (its unique number) when there is room; `…` where text is left out."""
    if cells(layer[start:end]) + 2 > width:
        return crop(layer[start:end], width)
    if cells(layer[start:]) + 1 <= width:
        return ELLIPSIS + _tail(layer, width - 1)
    last = layer.rsplit("/", 1)[-1]
    tail = _tail(last, max(0, min(cells(last), (width - cells(layer[start:end]) - 3) // 2 + 1)))
    room = width - cells(tail) - 1  # the match and what is around it, before `…tail`
    begin = max(0, min(start, end + 1 - room))
    head = ELLIPSIS if begin > 0 else ""
    middle = crop(layer[begin:], room - cells(head))
    return head + middle + ELLIPSIS + tail


def _elide(layer: str, width: int, neighbours: Sequence[str]) -> str:
    layer = short_converter(layer)  # says as much in a third of the cells
    if cells(layer) <= width:
        return layer
    segments = layer.split("/")
    if len(segments) == 1:
        return _flat(layer, width, neighbours)
    keep = [True] * len(segments)
    # What every neighbour shares first, leftmost first; then the importer's suffix; then what
    # some neighbours share, but not the segment before the last (it names the block). A
    # segment no neighbour has there tells the rows apart: it is cut last.
    every, some = _sharing(segments, neighbours)
    for index in every:
        keep[index] = False
        if cells(_join(segments, keep)) <= width:
            return _join(segments, keep)
    segments[-1] = _IMPORTER_SUFFIX.sub(ELLIPSIS + r"\1", segments[-1])  # `Relu…11534`
    if cells(_join(segments, keep)) <= width:
        return _join(segments, keep)
    for index in some:
        if index < len(segments) - 2:
            keep[index] = False
            if cells(_join(segments, keep)) <= width:
                return _join(segments, keep)
    last = segments[-1]
    head = _join(segments[:-1], keep[:-1])
    room = width - cells(last) - 1  # for everything before the last `/`
    if room >= 4:
        if cells(head) > room:
            head = crop(head, room - 1) + ELLIPSIS
        return f"{head}/{last}"
    if cells(last) + 2 <= width:  # the layer's own name alone: a converter's is long
        return f"{ELLIPSIS}/{last}"
    return cut_middle(layer, width)


NEIGHBOURHOOD = 2  # rows above and below an id is told from


def neighbours(ids: Sequence[str], index: int) -> list[str]:
    """The rows around `index` that elide() tells it from."""
    return [ids[i] for i in range(max(0, index - NEIGHBOURHOOD),
                                  min(len(ids), index + NEIGHBOURHOOD + 1)) if i != index]


def shorten_column(ids: Sequence[str], width: int) -> list[str]:
    """Each of `ids` (rows in the order shown) elided to `width`, told from the rows around it."""
    return [elide(layer, width, neighbours(ids, i)) for i, layer in enumerate(ids)]
