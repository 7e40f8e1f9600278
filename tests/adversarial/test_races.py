"""A short black-box sweep of tests/adversarial/races.py: a real second process changes a
15 MB file at a random moment of each command (every command, every kind of change, once
each across the sweep); nothing may be fooled, lost, mixed or built on a rejected file.
The windows themselves are hooked deterministically in tests/core/test_other_writers.py;
`python -m tests.adversarial.races N` runs the long sweep."""

from __future__ import annotations

import random

from tests.adversarial.races import WRITERS, Sweep

# Each command against one kind of change, the kinds rotated so each is raced.
PAIRS = [("check", "in_place"), ("layers", "mtime_put_back"), ("add", "renamed_over"),
         ("remove", "in_place"), ("editor", "truncated")]


def test_a_second_process_never_fools_a_command(tmp_path):
    assert {writer for _, writer in PAIRS} == set(WRITERS)
    sweep = Sweep(tmp_path)
    sweep.calibrate()
    rng = random.Random(20)
    found = {f"{command} vs {writer}": sweep.race(command, writer, rng)
             for command, writer in PAIRS}
    # "undecided": their write met this edit's rename (which came first, no stat can say)
    assert all(v == "ok" or v.startswith("undecided") for v in found.values()), found
