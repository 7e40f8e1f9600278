"""The cyclic collector paused for one bulk step."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def gc_paused() -> Iterator[None]:
    """The cyclic collector off while a bulk step allocates: a bulk add of 188,000 layers makes
    188,000 line tuples (and the editor as many rows), and each allocation threshold crossed
    started a pass, some of them over every object of the process (half the add's time).
    Cycles made meanwhile are collected once it is back on."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()
