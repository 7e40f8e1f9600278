"""`quanted tune --rank drop` with no current analysis runs one ("ranking: by drop from
the analysis when one is cached or `--rank drop` (it runs one)"), against STAND-INs for pegasus:
tests/cli/tune_stand_in.py for the trials, whose probe inferences go to the analysis stand-in
tests/core/analysis_standin.py. The real engine is in tests/engine/test_tune_engine.py."""

from __future__ import annotations

import io

import pytest

from quanted.cli import main
from quanted.cli.tune_report import TuneProgressPrinter
from quanted.core.document.model import QuantizeDocument
from quanted.core.engine import analysis
from quanted.core.tune import rank, session
from quanted.core.tune.figures import Target
from quanted.core.tune.progress import PhaseStarted
from tests.cli.test_tune_stand_in import (
    CONV2,
    PEGASUS,
    RANKED,
    calls,
    configure,
    make_model,
)


@pytest.fixture
def model(tmp_path, monkeypatch):
    return make_model(tmp_path, monkeypatch)


def test_rank_drop_runs_the_analysis_after_the_bounds_and_caches_it(model, monkeypatch,
                                                                     capsys):
    configure(model, monkeypatch, weights={CONV2: 0.5})
    before = model.read_bytes()
    setup = session.prepare(model, session.Options(Target(0.99), rank=rank.DROP,
                                                   pegasus=PEGASUS))
    assert setup.ranking.pending and setup.plan.analysis_runs == 2
    assert setup.plan.candidates[:len(RANKED)] == RANKED  # entropy order until the analysis
    events: list = []
    stderr = io.StringIO()
    progress = TuneProgressPrinter(setup, stderr)

    def on_event(event) -> None:
        events.append(event)
        progress.on_event(event)

    outcome = session.search(setup, on_event)
    assert [e.phase for e in events if isinstance(e, PhaseStarted)] == [
        "bounds", "ranking", "bisect", "prune"]
    assert "quanted: [ranking] analysing 38 layers (2 engine runs) to rank the candidates by " \
           "drop" in stderr.getvalue()
    assert outcome.met and outcome.minimal and outcome.layers == (CONV2,)
    assert model.read_bytes() == before  # the search and its analysis write only .quanted/

    # The analysis is cached where `quanted analyze` looks, and the bisection used its order.
    assert analysis.load_current(model) is not None
    expected = rank.rank(QuantizeDocument.open(model), rank.DROP, model.parent / "tinynet.json")
    assert not expected.pending and expected.drop and expected.layers[:5] != RANKED
    assert setup.ranking.how == rank.DROP and setup.ranking.layers == expected.layers
    assert setup.plan.candidates == expected.layers
    half = expected.layers[:len(expected.layers) // 2]
    first_bisection = next(t for t in outcome.trials if t.phase == "bisect")
    assert set(first_bisection.customized) == set(half) | {
        c for layer in half for c in expected.companions.get(layer, ())}
    log = calls(model)
    probes = [i for i, line in enumerate(log) if line.startswith("inference probes")]
    assert [log[i] for i in probes] == ["inference probes float32", "inference probes quantized"]
    quantizes = [i for i, line in enumerate(log) if line.startswith("quantize")]
    # after the 3 bounds (the plain one runs no quantize: its table is the plain one)
    assert quantizes[1] < probes[0] and probes[1] < quantizes[2]

    assert main(["analyze", str(model), "--pegasus", PEGASUS]) == 0
    assert "no engine run" in capsys.readouterr().err
    assert len(calls(model)) == len(log)


def test_rank_drop_dry_run_says_an_analysis_would_run_and_runs_nothing(model, monkeypatch,
                                                                        capsys):
    configure(model, monkeypatch)
    assert main(["tune", str(model), "--pegasus", PEGASUS, "--rank", "drop", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert ("plan: ranking by drop needs an analysis of the file and none is cached: after the "
            "bounds, one runs (2 engine run(s), kept in .quanted/analysis/ for `quanted "
            "analyze`)") in out
    assert "candidates, in entropy order until the analysis ranks them by drop:" in out
    assert f"    1  {CONV2}  (drop=-, entropy=0.7445)" in out
    assert not (model.parent / ".quanted").exists()
    assert not (model.parent.parent / "calls.log").exists()
