"""The tune search on made-up responses, without any engine: an executor that answers each
trial from a known function of the raised set (the stand-in's, tests/cli/tune_stand_in.py).
Properties: the answer meets the target and is 1-minimal, no layer set is measured twice, and
the trial count stays within the plan. Larger made-up models: tests/core/test_tune_oracles.py."""

from __future__ import annotations

import shutil
import tempfile
from concurrent.futures import Future
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from quanted.core.tune import runner, session
from quanted.core.tune.figures import Target
from quanted.core.tune.search import FOUND, PLAIN, UNREACHABLE
from quanted.core.tune.store import trial_key
from tests.cli import tune_stand_in
from tests.conftest import SAMPLE

FILES = ["tinynet.json", "tinynet.data", "tinynet_inputmeta.yml", "dataset.txt", "entropy.txt",
         "tinynet_uint8.quantize"] + [f"input_{i}.npy" for i in range(4)]
OUTPUT = "@attach_output/out0_0:out0"
# raised only together (as the engine does: rank.ties); one alone makes it apply nothing
TIED = {"Flatten_output_0_3", "Flatten_output_0_3_acuity_mark_perm_38"}


def broken_tie(layers) -> bool:
    return len(TIED & set(layers)) == 1


class Answers:
    """An executor answering trials from `conf` (the stand-in's cosine function)."""

    def __init__(self, conf: dict) -> None:
        self.conf = conf
        self.asked: list[str] = []

    def submit(self, fn, spec):
        future: Future = Future()
        if fn is runner.run_float:
            future.set_result({OUTPUT: [tune_stand_in.float_output(i) for i in range(4)]})
            return future
        self.asked.append(trial_key(spec.customized))
        refused = tuple(layer for layer in spec.customized if layer in self.conf["refuse"])
        applied = set(spec.customized) - set(refused)
        notes: tuple[str, ...] = ()
        if broken_tie(applied):
            applied, notes = set(), ("There's a conflict to quantize tensor",)
        cosines = tune_stand_in.per_input(applied, self.conf, 4)
        outputs = {OUTPUT: [tune_stand_in.quantized_output(i, c) for i, c in enumerate(cosines)]}
        future.set_result(runner.TrialOutput(spec.customized, outputs, refused, notes, 1.0))
        return future


def run(conf: dict, jobs: int = 1):
    with tempfile.TemporaryDirectory() as folder:
        for name in FILES:
            shutil.copy(SAMPLE / name, Path(folder) / name)
        setup = session.prepare(Path(folder) / "tinynet_uint8.quantize",
                                session.Options(Target(0.99), jobs=jobs, pegasus="pegasus"))
        answers = Answers(conf)
        outcome = session.search(setup, executor=answers)
        return setup, outcome, answers


def worst(layers, conf) -> float:
    applied = set(layers) - set(conf["refuse"])
    return min(tune_stand_in.per_input(set() if broken_tie(applied) else applied, conf, 4))


weights = st.dictionaries(st.integers(0, 9), st.floats(-0.3, 0.5), max_size=6)


# (rank 2, FLATTEN, is tied to its permute: the stand-in refuses layers one by one)
refusals = st.sets(st.integers(0, 9).filter(lambda k: k != 2), max_size=2)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(base=st.floats(0.2, 0.995), by_rank=weights, refuse=refusals, jobs=st.integers(1, 3))
def test_the_answer_meets_the_target_and_is_1_minimal(base, by_rank, refuse, jobs):
    ranked = ["layer3/layer3.0/conv2/Conv_output_0_7", "layer3/layer3.0/Add_output_0_6",
              "Flatten_output_0_3", "avgpool/GlobalAveragePool_output_0_4",
              "layer2/layer2.1/Add_output_0_12", "layer3/layer3.0/relu_1/Relu_output_0_5",
              "layer2/layer2.1/relu_1/Relu_output_0_10", "layer1/layer1.0/Add_output_0_26",
              "features/features.3/Relu_output_0_32", "features/features.2/Conv_output_0_33"]
    conf = {"base": base, "spread": 0.001, "weights": {ranked[k]: w for k, w in by_rank.items()},
            "refuse": [ranked[k] for k in refuse]}
    setup, outcome, answers = run(conf, jobs)
    assert len(answers.asked) == len(set(answers.asked))  # no set measured twice
    kept = [r for r in ranked if r not in conf["refuse"]]
    if worst(ranked, conf) < 0.99 or not conf["refuse"]:
        assert setup.plan.candidates[:len(kept)] == kept
    if worst([], conf) >= 0.99:
        assert outcome.reason == PLAIN and outcome.customized == {}
        return
    riders = [layer for tied in setup.plan.companions.values() for layer in tied]
    if worst([*setup.plan.candidates, *riders], conf) < 0.99:
        assert outcome.reason == UNREACHABLE and not outcome.met
        return
    assert outcome.reason == FOUND and outcome.met and outcome.minimal
    found = set(outcome.layers)
    assert not found & set(conf["refuse"])
    assert worst(found, conf) >= 0.99
    for layer in found:
        assert worst(found - {layer}, conf) < 0.99
    assert outcome.prefix is not None and setup.plan.most is not None
    assert len(outcome.trials) <= setup.plan.most
    assert setup.plan.expected == len(outcome.trials)  # the plan's total is what it did


def test_a_known_example_counts_its_trials():
    ranked = ["layer3/layer3.0/conv2/Conv_output_0_7", "layer3/layer3.0/Add_output_0_6",
              "Flatten_output_0_3", "avgpool/GlobalAveragePool_output_0_4"]
    conf = {"base": 0.5, "spread": 0.001, "refuse": [],
            "weights": {ranked[0]: 0.3, ranked[3]: 0.2}}
    setup, outcome, _answers = run(conf)
    assert outcome.layers == (ranked[0], ranked[3])
    # 3 bounds (plain, all 37 candidates, the file's 7) + 5 bisection (prefixes of 18, 9, 4,
    # 2, 3 candidates) + pruning of the prefix of 4: the 4th is known needed (the prefix of 3
    # missed); of the 3 others, lowest first, dropping FLATTEN meets, FLATTEN and ADD6 meets,
    # all three misses: CONV2 stays; then AVGPOOL's removal is measured again on the smaller
    # set. FLATTEN is raised with its tied permute: one layer more in its sets.
    assert [len(t.customized) for t in outcome.trials] == [0, 38, 7, 19, 10, 5, 2, 4, 3, 2, 1, 1]
    assert [t.phase for t in outcome.trials] == ["bounds"] * 3 + ["bisect"] * 5 + ["prune"] * 4
    # the plan's total is the count at the end; its hard bound: 3 bounds, 6 bisection steps,
    # 4 searches of at most 5 trials, 10 re-measures
    assert setup.plan.expected == 12 and setup.plan.most == 3 + 6 + 4 * 5 + 10
    assert [(c, round(v, 6)) for c, v in outcome.points()[:3]] == [(0, 0.497), (1, 0.797),
                                                                   (2, 0.997)]
