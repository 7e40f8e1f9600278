"""Every engine step keeps the one contract of quanted/core/engine/step.py: `plan` from the open
document (quantize, which makes the file, from the model), `run(the_plan, events, cancel, *,
options)` with one Events and one Cancel, and the editor's screens cancel through that token
alone. A new step listed in STEPS is checked the same way."""

from __future__ import annotations

import inspect
import typing
from pathlib import Path
from types import ModuleType

import pytest

from quanted.core.document.model import QuantizeDocument
from quanted.core.engine import analysis, export, hybrid, quantize, verify
from quanted.core.engine.step import Cancel, Events, StepCancelled, StepFailed
from quanted.core.tune import runner, session
from quanted.tui.screens.engine_base import EngineScreen
from quanted.tui.screens.engine_steps import ENGINE_STEPS

STEPS: dict[str, ModuleType] = {
    "quantize": quantize, "hybrid": hybrid, "verify": verify, "analysis": analysis,
    "export": export, "tune": session,
}


@pytest.mark.parametrize("name", STEPS)
def test_plan_takes_the_open_document(name):
    plan = STEPS[name].plan
    first = next(iter(inspect.signature(plan).parameters.values()))
    hints = typing.get_type_hints(plan)
    if name == "quantize":  # it makes the file: planned from the model it is made from
        assert hints[first.name] is Path
    else:
        assert first.name == "doc" and hints["doc"] is QuantizeDocument


@pytest.mark.parametrize("name", STEPS)
def test_run_takes_the_plan_one_events_and_one_cancel(name):
    module = STEPS[name]
    parameters = list(inspect.signature(module.run).parameters.values())
    assert [p.name for p in parameters[:3]] == ["the_plan", "events", "cancel"]
    assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in parameters[3:]), \
        "a step's own options come after the three, by keyword"
    hints = typing.get_type_hints(module.run)
    assert hints["the_plan"] is typing.get_type_hints(module.plan)["return"]
    assert typing.get_origin(hints["events"]) is Events
    assert hints["cancel"] == Cancel | None
    assert not {"on_line", "on_progress", "process_ready", "control"} & set(hints)


def test_the_steps_failures_and_cancels_are_the_shared_ones():
    for failed in (verify.InferenceFailed, analysis.AnalysisFailed, runner.TrialFailed):
        assert issubclass(failed, StepFailed)
    for cancelled in (verify.VerifyCancelled, analysis.AnalysisCancelled, runner.TuneCancelled):
        assert issubclass(cancelled, StepCancelled)


@pytest.mark.parametrize("name", ENGINE_STEPS)
def test_the_screens_cancel_through_the_token(name):
    screen = ENGINE_STEPS[name]
    assert screen.stop_engine is EngineScreen.stop_engine, \
        f"{screen.__name__} stops its engine its own way: cancel self.token instead"
