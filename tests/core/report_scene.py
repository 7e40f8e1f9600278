"""A model folder with everything the HTML report reads, written the way quanted writes it,
without the engine: a cached analysis (its real cache key, so it is current), verify and tune
records in the history, and tune trials in `.quanted/tune/` under their real context key. The
figures are made up (a smooth fall in cosine, a few big drops); the engine's own figures are
checked in tests/engine/. For the report's tests in tests/core/ and tests/browser/."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from quanted.core.document.model import QuantizeDocument
from quanted.core.engine import analysis, baseline
from quanted.core.engine.analysis_cache import AnalysisCache
from quanted.core.engine.layer_figures import LayerFigures
from quanted.core.engine.report import model_layers
from quanted.core.state.history import History
from quanted.core.tune import scratch
from quanted.core.tune.figures import CheckOutcome, Figures, Trial
from quanted.core.tune.store import TrialStore

QTYPE = "dynamic_fixed_point-i16"
OUTPUT = "@attach_output/out0_0:out0"


def store_analysis(quantize: Path) -> list[str]:
    """Cache an analysis of the file as it is now; returns the layers it has figures for."""
    plan = analysis.plan(QuantizeDocument.open(quantize))
    layers = model_layers(plan.files.model)
    cosine, items = 1.0, []
    for i, layer in enumerate(layers):
        drop = 0.02 if i % 9 == 4 else 0.0005 * (i % 3)
        cosine -= drop
        items.append(LayerFigures(layer, "out0", cosine=cosine, cosine_min=cosine - 0.001,
                                  cosine_raw=cosine, clamped=False, sqnr_db=30.0 - i / 4,
                                  max_abs_error=0.01 * i, drop=drop))
    found = analysis.Analysis(plan.quantize, plan.iterations, plan.model, plan.files.model,
                              plan.key, datetime.now(timezone.utc).isoformat(), items)
    AnalysisCache(plan.quantize).store_result(plan.key, found.to_cache())
    return layers


def output_figures(tensor: str, kind: str, cosine: float, collapsed: bool = False) -> dict:
    """One output's figures as verify records them (OutputFigures.to_json)."""
    from quanted.core.engine.output_figures import OutputFigures, Resolution

    why = ("3 distinct quantized values where float's middle half has 128 (step 1.21497, "
           "middle half 2.58956 wide)") if collapsed else ""
    resolution = Resolution(256, 15 if collapsed else 148, 128, 3 if collapsed else 60,
                            1.21497 if collapsed else 0.03125, 2.58956,
                            2.1 if collapsed else 82.9, collapsed, why)
    return OutputFigures(tensor, kind, 4, cosine, cosine + 0.00001, 44.1 if collapsed else 64.1,
                         0.647894 if collapsed else 0.097798, resolution,
                         4 if kind == "class" else None,
                         1.0 if kind == "class" else None).to_json()


SCORES = "@attach_scores/out0_1:out0"
CHECK = "python3 examples/check_scores.py"


def record_verify(quantize: Path, customized: dict[str, str], inputs: int = 4,
                  shift: float = 0.0, detector: bool = False) -> None:
    """A verify of the sample's one output; `detector`: with a second, score output's
    per-output figures (the plain run's collapsed) and a task check's verdicts, as a
    `verify --check` of a detector records them."""
    cosines = [c - shift for c in (0.9991, 0.9987, 0.9995, 0.9979)][:inputs]
    plain = [0.41, 0.52, 0.38, 0.47][:inputs]
    summary = {"mean_cosine": sum(cosines) / inputs, "min_cosine": min(cosines),
               "max_abs_error": 0.02, "top1_agree": inputs, "count": inputs,
               "top1_agreement": 1.0, "mean_top5_overlap": 1.0}
    History(quantize).record("verify", {
        "iterations": inputs, "customized": customized, "tensors": [OUTPUT],
        "cosine": {OUTPUT: cosines}, "max_abs_error": {OUTPUT: [0.02] * inputs},
        "top1_agreement": {OUTPUT: [True] * inputs}, "top5_overlap": {OUTPUT: [1.0] * inputs},
        "plain_quantized": {"source": "x", "cosine": {OUTPUT: plain},
                            "max_abs_error": {OUTPUT: [0.3] * inputs},
                            "top1_agreement": {OUTPUT: [False] * inputs},
                            "top5_overlap": {OUTPUT: [0.4] * inputs}},
        "summary": {"quantized": summary, "plain_quantized": {**summary, "mean_cosine": 0.445}},
        "runs": [], "notes": [],
        **({} if not detector else {
            "configuration": f"the file's table: {len(customized)} layer(s) raised",
            "outputs": {
                OUTPUT: {"kind": "class", "shape": [1, 10],
                         "quantized": output_figures(OUTPUT, "class", min(cosines)),
                         "plain_quantized": output_figures(OUTPUT, "class", min(plain))},
                SCORES: {"kind": "values", "shape": [1, 64],
                         "quantized": output_figures(SCORES, "values", 0.99999),
                         "plain_quantized": output_figures(SCORES, "values", 0.999976,
                                                           collapsed=True)}},
            "check": {"command": CHECK,
                      "quantized": {"acceptable": True, "metric": 0.0238064, "seconds": 0.4},
                      "plain_quantized": {"acceptable": False, "metric": 0.156536,
                                          "seconds": 0.4}}})})


def store_tune(quantize: Path, candidates: list[str]) -> dict[str, str]:
    """Trials of a tune over `candidates` (bounds, bisection, pruning) and the record of the
    set it chose; returns that set."""
    base = baseline.find(quantize, QuantizeDocument.open(quantize)).base  # the file is plain
    assert base is not None
    inputs = scratch.gather(quantize, base)
    iterations = 4
    store = TrialStore(quantize, scratch.context_key(inputs, iterations),
                       {"file": str(quantize), "iterations": iterations})
    chosen = {candidates[0]: QTYPE}
    sets = [{}, {c: QTYPE for c in candidates}, chosen,
            {c: QTYPE for c in candidates[:len(candidates) // 2]},
            {c: QTYPE for c in candidates[:len(candidates) // 4]},
            {c: QTYPE for c in candidates[1:3]}]
    for i, layers in enumerate(sets):
        worst = 0.22 if not layers else (0.9962 if layers == chosen else 0.97 + 0.005 * i)
        # the check's metric: a confidence error, small once enough layers are raised
        check = CheckOutcome(CHECK, len(layers) > 0 and worst > 0.98, round(1 - worst, 4))
        store.add(Trial(layers, Figures((worst, worst + 0.001), (bool(layers), True),
                                        check=check),
                        applied=i != 5, seconds=15.0))
    History(quantize).record("tune", {"customized": chosen, "iterations": iterations,
                                      "summary": {"mean_cosine": 0.9965, "top1_agree": 4,
                                                  "count": 4},
                                      "trials": len(sets), "minimal": True})
    return chosen


def populate(quantize: Path) -> dict[str, str]:
    """All of it, into the folder of `quantize` (a copy of the sample); returns the file's
    customized list."""
    customized = QuantizeDocument.open(quantize).customized
    layers = store_analysis(quantize)
    History(quantize).record("hybrid", {"customized": customized})
    record_verify(quantize, {}, shift=0.01)
    record_verify(quantize, customized, detector=True)
    store_tune(quantize, [layer for layer in layers if layer in customized] + layers[:6])
    return customized
