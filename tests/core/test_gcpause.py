"""gc_paused: the collector is off inside, back on after; a step that made many objects
leaves them frozen (out of the collector's passes), a small one freezes nothing."""

from __future__ import annotations

import gc

from quanted.core.disk.gcpause import FREEZE_AFTER, gc_paused


def test_a_big_step_is_frozen_and_a_small_one_is_not():
    gc.collect()
    before = gc.get_freeze_count()
    try:
        with gc_paused():
            assert not gc.isenabled()
            small = [[i] for i in range(10)]
        assert gc.isenabled() and gc.get_freeze_count() == before
        with gc_paused():
            big = [[i] for i in range(FREEZE_AFTER + 1000)]
        assert gc.isenabled() and gc.get_freeze_count() >= before + len(big)
    finally:
        gc.unfreeze()
    assert small and big


def test_a_paused_collector_stays_paused():
    gc.disable()
    try:
        with gc_paused():
            [[i] for i in range(FREEZE_AFTER + 1000)]
        assert not gc.isenabled()
    finally:
        gc.enable()
