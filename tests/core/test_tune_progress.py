"""The tune plan and its ETA (core/tune/progress.py): every phase counted, said one way."""

from __future__ import annotations

from quanted.core.tune.figures import Target
from quanted.core.tune.progress import FINISH_TRIALS, Plan

QTYPE = "dynamic_fixed_point-i16"


def plan(**extra) -> Plan:
    return Plan([f"l{i}" for i in range(37)], "entropy", Target(0.99, True), QTYPE, **extra)


def test_the_files_own_list_is_a_bound_when_it_is_another_set():
    p = plan()
    p.count_bounds({})
    assert p.bounds == 2
    p.count_bounds({"l3": QTYPE})
    assert p.bounds == 3 and "3 bounds (plain, all 37 raised, the file's own list)" in p.lines()[1]
    p.count_bounds(p.raised(p.candidates))  # every candidate raised: the same as a bound
    assert p.bounds == 2


def test_the_eta_counts_the_pruning_past_its_estimate_and_the_hybrid_run_and_verify():
    p = plan(then_apply=True, bounds=3, prefix=6, trial_seconds=10.0)
    assert p.expected == 3 + 6 + 5
    assert p.eta(p.expected - 2) == (2 + FINISH_TRIALS) * 10.0
    # Removals re-check the others: the pruning runs past the estimate, never to 0 s.
    assert p.eta(p.expected + 4) == (1 + FINISH_TRIALS) * 10.0
    assert p.eta_most(p.expected) == (p.most - p.expected + FINISH_TRIALS) * 10.0
    assert p.of_trials(p.expected + 4) == f"~{p.expected + 5}"
    assert plan(bounds=3, prefix=6, trial_seconds=10.0).eta(p.expected) == 10.0  # no apply


def test_before_the_prefix_is_known_the_eta_says_it_leaves_the_pruning_out():
    p = plan(then_apply=True, trial_seconds=10.0)
    assert p.eta_is_partial() and p.of_trials(2) == "~8+P"
    assert p.eta(2) == (2 + 6 - 2 + FINISH_TRIALS) * 10.0


def test_the_plan_names_the_set_the_pruning_starts_from():
    p = plan(then_apply=True, bounds=3, prefix=6)
    (line,) = [ln for ln in p.lines() if "pruning starts" in ln]
    assert line == ("plan: the pruning starts from 6 layer(s): about 14 trials in all, at most "
                    f"{p.most}, then the hybrid run and verify")
