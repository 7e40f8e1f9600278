"""Long layer ids in a narrow column, shortened so that rows can still be told apart.

`MobilenetV1/MobilenetV1/Conv2d_13_depthwise/depthwise_73` beside
`MobilenetV1/MobilenetV1/Conv2d_7_pointwise/Conv2D_45`: the `/`-separated segments both rows
share at the same place (`MobilenetV1/MobilenetV1`) go first, as `…`; the segments that differ
and the last segment (the layer's own name and unique number) stay. Only when those alone do
not fit is the text between them cut, still keeping the start of the differing part.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from rich.cells import cell_len, set_cell_size

ELLIPSIS = "…"
# The importer's suffix on an ONNX node's name: `Relu_output_0_11534` is node `Relu`, uid 11534.
_IMPORTER_SUFFIX = re.compile(r"_output_\d+_(\d+)$")
# A converter's suffix (core.layers.CONVERTER_NAME) keeps only its two qtypes:
# `depthwise_13_pre_asymmetric_affineu8_to_dynamic_fixed_pointi16_12`
# -> `depthwise_13_pre:u8→i16_12`.
_QUANTIZER = (r"(?:perchannel_symmetric_affine|asymmetric_affine|symmetric_affine"
              r"|dynamic_fixed_point|qbfloat16|bfloat16|float16|float32)")
_CONVERTER_SUFFIX = re.compile(
    rf"_(pre|next)_{_QUANTIZER}([a-z]*\d*)_to_{_QUANTIZER}([a-z]*\d*)_(\d+)$")


def _short_converter(text: str) -> str:
    return _CONVERTER_SUFFIX.sub(lambda m: f"_{m[1]}:{m[2]}→{m[3]}_{m[4]}", text)


def _cut_middle(text: str, width: int) -> str:
    """The last resort: head and tail with `…` between, the tail (the unique number) longer."""
    if width < 8:
        return set_cell_size(text, width)
    tail = (width - 1) * 2 // 3
    head = width - 1 - tail
    return set_cell_size(text[:head] + ELLIPSIS + text[len(text) - tail:], width)


def _shared(segments: list[str], neighbours: Sequence[str]) -> set[int]:
    """Positions of the segments (not the last) every neighbour has at the same place."""
    others = [n.split("/") for n in neighbours if n]
    if not others:
        return set()
    return {i for i, seg in enumerate(segments[:-1])
            if all(i < len(o) - 1 and o[i] == seg for o in others)}


def _join(segments: list[str], keep: list[bool]) -> str:
    """The kept segments, each run of dropped ones written once as `…`."""
    out: list[str] = []
    for seg, kept in zip(segments, keep):
        if kept:
            out.append(seg)
        elif not out or out[-1] != ELLIPSIS:
            out.append(ELLIPSIS)
    return "/".join(out)


def elide(layer: str, width: int, neighbours: Sequence[str] = ()) -> str:
    """`layer` in at most `width` cells (not padded), keeping what tells it from `neighbours`
    (the rows above and below)."""
    if width <= 0:
        return ""
    if cell_len(layer) <= width:
        return layer
    layer = _short_converter(layer)  # says as much in a third of the cells
    if cell_len(layer) <= width:
        return layer
    segments = layer.split("/")
    if len(segments) == 1:
        return _cut_middle(layer, width)
    keep = [True] * len(segments)
    # Drop the segments shared with the neighbours first, leftmost first; then the other
    # leading segments only when the text still does not fit, never the last segment.
    shared = sorted(_shared(segments, neighbours))
    for index in shared:
        keep[index] = False
        if cell_len(_join(segments, keep)) <= width:
            return _join(segments, keep)
    last = segments[-1]
    head = _join(segments[:-1], keep[:-1])
    if cell_len(head) + 1 + cell_len(last) > width:
        last = _IMPORTER_SUFFIX.sub(ELLIPSIS + r"\1", last)  # `Relu…11534`: still unique
    room = width - cell_len(last) - 1  # for everything before the last `/`
    if room >= 4:
        head = _join(segments[:-1], keep[:-1])
        if cell_len(head) > room:
            head = set_cell_size(head, room - 1) + ELLIPSIS
        return f"{head}/{last}"
    return _cut_middle(layer, width)
