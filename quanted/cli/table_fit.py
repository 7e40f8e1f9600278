"""CLI tables on a terminal fit its width: ids shortened as the editor shortens them
(core/document/short_ids.py), qtypes as `dfp-i16`, four decimals, and columns dropped before the id
column falls under MIN_ID. Piped, a table keeps full ids and every column (scripts read it)."""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TextIO

from quanted.core.document.short_ids import cells, shorten_column

MIN_ID = 28  # as the editor's id column at 80 columns


def terminal_width(out: TextIO) -> int | None:
    """The terminal's width when `out` is one, else None (a pipe or a file: nothing to fit)."""
    try:
        if not out.isatty():
            return None
    except (AttributeError, ValueError):
        return None
    return shutil.get_terminal_size().columns


@dataclass
class Column:
    title: str
    width: int
    optional: bool = False  # dropped, in order, while the ids have less than MIN_ID


def fitted(ids: Sequence[str], columns: list[Column], width: int, tail: int = 0,
           ) -> tuple[list[str], list[Column], int]:
    """The ids shortened, the columns kept, and the id column's width, for rows of
    `id  col  col ...` (two spaces before each column) plus `tail` cells after them."""
    need = max([cells(i) for i in ids] + [5])

    def room(kept: list[Column]) -> int:
        return width - tail - sum(c.width + 2 for c in kept)

    kept = list(columns)
    for column in [c for c in columns if c.optional]:
        if room(kept) >= min(need, MIN_ID):
            break
        kept.remove(column)
    id_width = max(8, min(need, room(kept)))
    return shorten_column(ids, id_width), kept, id_width


def pad(text: str, width: int) -> str:
    return text + " " * max(0, width - cells(text))
