"""The tune search (bounds, bisection, pruning by groups) on STAND-IN oracles of up to 200
candidates (tests/core/tune_oracles.py: a known function of the raised set, no engine):
whatever the shape, the set found meets the target and is 1-minimal with every single removal
measured, no set is measured twice, the count stays within the plan's hard bound and ends
equal to the plan's total; on monotone oracles it stays within the cost the pruning's searches
are built for; sets the journal holds are never run again."""

from __future__ import annotations

import math

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from quanted.core.tune.search import BUDGET, FOUND, PLAIN, UNREACHABLE
from quanted.core.tune.store import TrialStore, trial_key
from tests.core import tune_oracles as oracles

SHAPES = ("essential", "budget", "spoiled")


@st.composite
def cases(draw):
    n = draw(st.integers(1, 200))
    layers = oracles.names(n)
    k = draw(st.integers(0, min(30, n)))
    # where the layers that matter sit: anywhere, or mostly near the top of the ranking
    top = draw(st.booleans())
    pool = layers[:min(n, 2 * k + 3)] if top else layers
    needed = draw(st.permutations(pool))[:min(k, len(pool))]
    shape = draw(st.sampled_from(SHAPES))
    if shape == "essential":
        meets = oracles.essential(needed)
    elif shape == "budget":
        small = draw(st.floats(0.0, 0.01))
        errors = {layer: 0.2 if layer in needed else small for layer in layers}
        meets = oracles.budget(errors, 0.1)
    else:
        meets = oracles.spoiled(needed, draw(st.integers(0, 1000)), layers)
    return layers, meets, shape, draw(st.integers(1, 3))


def check_minimal(replayed, meets) -> None:
    outcome = replayed.outcome
    found = frozenset(outcome.layers)
    assert outcome.met and outcome.minimal and meets(found)
    measured = {trial_key(t.customized): t for t in outcome.trials}
    for layer in found:
        without = {m: q for m, q in outcome.customized.items() if m != layer}
        assert not meets(found - {layer})
        # measured, not inferred: the trial of the set without it is among this run's
        trial = measured[trial_key(without)]
        assert not trial.meets(oracles.TARGET)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=cases())
def test_any_shape_ends_1_minimal_within_the_plan(case):
    layers, meets, shape, jobs = case
    replayed = oracles.replay(layers, meets, jobs)
    outcome = replayed.outcome
    event(f"{shape}: {outcome.reason}")
    assert len(replayed.asked) == len(set(replayed.asked))  # no set measured twice
    if meets(frozenset()):
        assert outcome.reason == PLAIN and outcome.customized == {}
        return
    if not meets(frozenset(layers)):
        assert outcome.reason == UNREACHABLE and not outcome.met
        return
    assert outcome.reason == FOUND
    check_minimal(replayed, meets)
    plan = replayed.plan
    assert plan.most is not None and replayed.trials <= plan.most
    assert plan.expected == replayed.trials  # the plan's running total ends on the count
    if shape != "spoiled" and jobs == 1:
        assert replayed.trials <= oracles.bound(replayed)


def classifier(spread: list[int]) -> tuple[list[str], oracles.Meets]:
    """Shaped like the issue's 97-layer classifier: the shortest passing prefix is 73 layers
    and 17 of them are needed (the top ones but for `spread`, and the 73rd)."""
    layers = oracles.names(97)
    needed = [layers[i] for i in range(16 - len(spread))] + [layers[i] for i in spread]
    return layers, oracles.essential([*needed, layers[72]])


def target(n: int, k: int) -> float:
    return 2 * math.log2(n) + 2 * k


def test_a_classifier_needing_its_top_layers_takes_2_log2_n_plus_2k_trials():
    layers, meets = classifier([])
    replayed = oracles.replay(layers, meets)
    assert replayed.outcome.prefix == 73 and len(replayed.outcome.layers) == 17
    check_minimal(replayed, meets)
    # 2 bounds + 7 bisection steps, then dropping the lower half of the 72 others meets, all
    # of them misses, 5 more steps find the 56 droppable, 16 single removals miss and the 73rd
    # is measured again on the final set: 34, against 81 one at a time
    assert replayed.trials == 34 <= target(97, 17)
    two = oracles.replay(layers, meets, jobs=2)
    assert two.rounds < replayed.rounds and two.outcome.layers == replayed.outcome.layers


def test_layers_spread_below_the_top_cost_about_2_log2_of_their_gaps_each():
    layers, meets = classifier([30, 50])
    replayed = oracles.replay(layers, meets)
    check_minimal(replayed, meets)
    assert replayed.trials <= oracles.bound(replayed)
    assert replayed.trials <= target(97, 17) + 4
    assert replayed.plan.expected == replayed.trials


def test_a_second_run_reuses_the_journal_and_a_budget_run_resumes(tmp_path):
    layers, meets = classifier([40])
    quantize = tmp_path / "m.quantize"

    def store() -> TrialStore:
        return TrialStore(quantize, "0" * 16, {"note": "stand-in"})

    cut = oracles.replay(layers, meets, store=store(), max_trials=20)
    assert cut.outcome.reason == BUDGET and cut.outcome.met and len(cut.asked) == 20
    assert meets(frozenset(cut.outcome.layers))
    rest = oracles.replay(layers, meets, store=store())
    assert rest.outcome.reason == FOUND
    assert not set(rest.asked) & set(cut.asked)  # the 20 recorded trials are not run again
    assert sum(t.cached for t in rest.outcome.trials) == 20
    again = oracles.replay(layers, meets, store=store())
    assert again.asked == [] and again.outcome.layers == rest.outcome.layers
    check_minimal(again, meets)


def test_a_response_that_is_not_monotonic_still_ends_measured_1_minimal():
    # L000 and L007 are needed, and L006 too while L002 is raised: the searches keep L006
    # (measured needed with L002 there), then drop L002; the re-measure on the final set
    # finds L006 can go
    layers = oracles.names(8)

    def meets(raised: frozenset[str]) -> bool:
        return {"L000", "L007"} <= raised and ("L002" not in raised or "L006" in raised)

    replayed = oracles.replay(layers, meets)
    check_minimal(replayed, meets)
    assert replayed.outcome.layers == ("L000", "L007")
    met = {tuple(sorted(t.customized)): t.meets(oracles.TARGET) for t in replayed.outcome.trials}
    assert met[("L000", "L001", "L002", "L003", "L004", "L005", "L007")] is False  # kept L006
    assert met[("L000", "L001", "L006", "L007")] is True  # then L002 went
    assert met[("L000", "L007")] is True  # and L006's removal, measured again, meets
    assert replayed.plan.expected == replayed.trials
