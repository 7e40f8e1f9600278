"""A regex filter over every layer id at once: one `finditer` in C over the ids joined by
newlines, instead of a `search` call per id (200,000 ids: 80 ms -> 20 ms a keystroke).

Each match runs on to its line's end, so a line matches once; the match starts map to rows by a
binary search of the line starts. ASCII ids are searched lower-cased without IGNORECASE: then
re skips to a literal prefix instead of trying every position (10x on `conv.*1$`)."""

from __future__ import annotations

import re
from typing import NamedTuple

import numpy as np

from quanted.tui.user_regex import compile_quietly

# Regex text that could match a line break, look behind it, or anchor at the whole text:
# such a filter must run per id.
_CROSSES_LINES = re.compile(r"\\[sSWDntrvfxuUN0AZ]|\[\^|\(\?[a-zA-Z]*[sx]|\(\?<|\n")
# Regex text that lower-casing would change beyond its letters: `\B`, `\W`; ranges like A-z.
_CASE_SENSITIVE = re.compile(r"\\[A-Z]|[A-Z]-|-[A-Z]")


class JoinedIds(NamedTuple):
    text: str  # every id, one a line
    lowered: str  # the same lower-cased when all are ASCII, else ""
    starts: np.ndarray  # where each line starts


def join(layers: list[str]) -> JoinedIds | None:
    """The ids joined; None when one holds a newline (then lines are not ids)."""
    text = "\n".join(layers)
    if layers and text.count("\n") != len(layers) - 1:
        return None
    lengths = np.fromiter(map(len, layers), np.intp, len(layers)) + 1
    starts = np.concatenate(([0], np.cumsum(lengths)[:-1])).astype(np.intp)
    return JoinedIds(text, text.lower() if text.isascii() else "", starts)


def regex_mask(joined: JoinedIds, text: str) -> np.ndarray | None:
    """Which ids the case-insensitive regex `text` finds; None when it cannot be run over the
    joined ids (it may cross a line, it is not a valid regex): run it per id then."""
    if _CROSSES_LINES.search(text):
        return None
    lower = bool(joined.lowered) and text.isascii() and not _CASE_SENSITIVE.search(text)
    if compile_quietly(text) is None:  # wrapped, an invalid regex (`a)(b`) could become valid
        return None
    pattern = compile_quietly(f"(?:{text.lower() if lower else text})[^\n]*",
                              re.MULTILINE if lower else re.MULTILINE | re.IGNORECASE)
    if pattern is None:
        return None
    mask = np.zeros(len(joined.starts), bool)
    found = np.fromiter(map(re.Match.start, pattern.finditer(joined.lowered if lower
                                                                else joined.text)), np.intp)
    mask[np.searchsorted(joined.starts, found, side="right") - 1] = True
    return mask
