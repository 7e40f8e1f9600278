"""The cyclic collector paused for one bulk step."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


# Objects made (net) during a paused step beyond which what is alive is frozen.
FREEZE_AFTER = 50_000


@contextmanager
def gc_paused() -> Iterator[None]:
    """The cyclic collector off while a bulk step allocates: a bulk add of 188,000 layers makes
    188,000 line tuples (and the editor as many rows), and each allocation threshold crossed
    started a pass, some of them over every object of the process (half the add's time).

    After a step that made many objects, what is alive is frozen (moved out of the collector's
    reach) rather than left to it: the passes that followed a 200,000-line add (0.08 s,
    0.17 s, then 0.65 s over every object of the process) landed on the next paint or
    keystroke. Frozen objects are still freed when their last reference goes; only cycles
    among them are never collected, so small steps (a toggle) freeze nothing."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            if gc.get_count()[0] > FREEZE_AFTER:
                gc.freeze()
            gc.enable()
