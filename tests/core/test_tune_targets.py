"""Tune targets: every output, one output by name or index, the user's check."""

from __future__ import annotations

import pytest

from quanted.core.engine.taskcheck import TaskCheck
from quanted.core.tune.figures import ANY_COSINE, CheckOutcome, Figures, Target

BOXES, SCORES = "@attach_boxes/out0_0:out0", "@attach_scores/out0_1:out0"


def figures(boxes: float, scores: float, check: CheckOutcome | None = None) -> Figures:
    return Figures((min(boxes, scores),), (True,), ((BOXES, boxes), (SCORES, scores)), check)


def test_words_to_targets():
    assert Target.of([]) == Target(0.99)
    assert Target.of(["0.95"]).cosine == 0.95
    one = Target.of(["attach_scores/out0_1=0.999"])
    assert one.cosine == ANY_COSINE and one.outputs == (("attach_scores/out0_1", 0.999),)
    both = Target.of(["0.9", "1=0.999"])
    assert both.cosine == 0.9 and both.outputs == (("1", 0.999),)
    check = TaskCheck.parse("mycheck --strict")
    assert Target.of([], check=check).cosine == ANY_COSINE
    assert Target.of(["0.9"], check=check).cosine == 0.9
    for bad in ("high", "=0.9", "scores=x"):
        with pytest.raises(ValueError, match="C or NAME=C"):
            Target.of([bad])
    assert Target.of([], check=check).describe() == "the check `mycheck --strict` accepts it"
    assert both.describe() == "min cosine >= 0.9 and cosine of 1 >= 0.999"
    assert both.to_json() == {"cosine": 0.9, "top1": False, "outputs": {"1": 0.999},
                              "check": None}


def test_each_output_meets_its_own_target():
    target = Target.of(["0.9", "attach_scores/out0_1=0.999"])
    assert figures(0.95, 0.9995).meets(target)
    assert figures(0.95, 0.998).missed(target) == "cosine of attach_scores/out0_1 0.998000"
    assert figures(0.85, 0.9995).missed(target) == "min cosine 0.850000"
    by_index = Target.of(["0=0.99"])
    assert figures(0.991, 0.5).meets(by_index) and not figures(0.98, 1.0).meets(by_index)
    # a trial recorded before per-output figures cannot be judged per output
    old = Figures((0.99,), (True,))
    assert old.missed(by_index) == "no per-output figures for 0"


def test_the_check_judges_with_its_own_command():
    check = TaskCheck.parse("mycheck")
    target = Target.of([], check=check)
    yes, no = CheckOutcome("mycheck", True, 0.01), CheckOutcome("mycheck", False, 0.2)
    assert figures(0.1, 0.1, yes).meets(target)  # only the check decides
    assert figures(1.0, 1.0, no).missed(target) == \
        "the check finds it not acceptable (metric=0.2)"
    assert figures(1.0, 1.0, None).missed(target) == "the check has not judged it"
    other = CheckOutcome("othercheck", True, None)
    assert not figures(1.0, 1.0, other).meets(target)


def test_top1_counts_class_outputs_only():
    import numpy as np

    from quanted.cli.tune_report import describe
    from quanted.core.tune.figures import Trial, measure

    f = {BOXES: [np.array([1.0, 2.0, 3.0])], SCORES: [np.array([0.1, 0.7, 0.2])]}
    q = {BOXES: [np.array([3.0, 2.0, 1.0])], SCORES: [np.array([0.1, 0.6, 0.3])]}
    assert measure(f, q).top1 == (False,)  # every output, boxes included (no kinds known)
    assert measure(f, q, classes=[SCORES]).top1 == (True,)
    values_only = measure(f, q, classes=[])
    assert values_only.top1 == () and values_only.top1_all
    text = describe(Trial({}, values_only))
    assert "top-1" not in text and text.startswith("0 layer(s): min cosine 0.71")


def test_a_trials_line_names_each_output_and_the_checks_verdict():
    # The CLI's progress and the editor's tune log both end a trial's line with this.
    two = (("@attach_boxes/out0_0:out0", 0.994746), ("@attach_face_prob/out0_2:out0", 0.997263))
    checked = Figures((0.994746,), (), two, CheckOutcome("mycheck", True, 0.972853))
    assert checked.detail() == (" (@attach_boxes/out0_0:out0 0.994746, "
                                "@attach_face_prob/out0_2:out0 0.997263), "
                                "check acceptable (metric=0.972853)")
    refused = Figures((0.9,), (), two[:1], CheckOutcome("mycheck", False, None))
    assert refused.detail() == ", check NOT acceptable"  # one output: its cosine is the min
    assert Figures((0.9,), (), two[:1]).detail() == ""
