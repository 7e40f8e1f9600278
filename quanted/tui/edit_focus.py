"""Where the cursor goes after an undo or redo: onto the first layer it changed."""

from __future__ import annotations

from itertools import compress
from operator import ne, not_


def first_changed(before: dict[str, str], after: dict[str, str]) -> str | None:
    """The first layer whose customized qtype differs between two blocks (before's order,
    then the ones only `after` has), found in C: a comprehension over both was 0.3 s for
    the undo of a 200,000-layer add."""
    found = next(compress(before, map(ne, before.values(), map(after.get, before))), None)
    if found is None:
        found = next(compress(after, map(not_, map(before.__contains__, after))), None)
    return found
