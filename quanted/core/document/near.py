"""The closest layer id to a name, as difflib finds it, without difflib's full pass."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import compress


def _ratio(matches: int, length: int) -> float:
    return 2.0 * matches / length if length else 1.0  # difflib's _calculate_ratio


def closest(word: str, possibilities: Sequence[str], cutoff: float) -> str | None:
    """`difflib.get_close_matches(word, possibilities, n=1, cutoff=cutoff)`, the same answer
    (ties to the greater string, as its heapq.nlargest gives them).

    difflib computes the costly ratio() of every candidate that passes its two cheap upper
    bounds, and layer ids are alike enough that most pass (2.8 s at 20,000 layers). Here the
    length bound runs in C, and ratio() runs best quick_ratio first, only while a candidate
    could still beat the best found: ratio <= quick_ratio <= the length bound."""
    from difflib import SequenceMatcher  # only for a name that is no layer: not on every add

    size = len(word)
    # The length bound (difflib's real_quick_ratio), once per distinct length.
    allowed = {n for n in set(map(len, possibilities))
               if _ratio(min(n, size), n + size) >= cutoff}
    candidates = compress(possibilities, map(allowed.__contains__, map(len, possibilities)))
    matcher = SequenceMatcher()
    matcher.set_seq2(word)
    bounded = []
    for candidate in candidates:
        matcher.set_seq1(candidate)
        bound = matcher.quick_ratio()
        if bound >= cutoff:
            bounded.append((bound, candidate))
    bounded.sort(reverse=True)
    best: tuple[float, str] | None = None
    for bound, candidate in bounded:
        if best is not None and bound < best[0]:
            break  # no candidate left can reach the best ratio found
        matcher.set_seq1(candidate)
        found = (matcher.ratio(), candidate)
        if found[0] >= cutoff and (best is None or found > best):
            best = found
    return best[1] if best is not None else None
