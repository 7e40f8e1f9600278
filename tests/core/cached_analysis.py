"""An analysis stored in the cache the way `quanted analyze` stores one, without the engine:
the figures are made up, the cache file and its key are the real ones (so it is current until
the file changes). For the tests of what reads an analysis; the engine's own figures are checked
in tests/engine/test_analysis_engine.py."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from quanted.core.document.model import QuantizeDocument
from quanted.core.engine import analysis
from quanted.core.engine.analysis_cache import AnalysisCache
from quanted.core.engine.layer_figures import LayerFigures
from quanted.core.document.layers import is_converter


def store(path: Path, drops: dict[str, float | None]) -> None:
    """Cache an analysis of `path` as it is now with these drops (out0 of each layer)."""
    plan = analysis.plan(QuantizeDocument.open(path))
    layers = [LayerFigures(layer, "out0", cosine=0.99 - (drop or 0.0) / 2, cosine_min=0.9,
                           cosine_raw=0.9, clamped=False, sqnr_db=30.0, max_abs_error=0.1,
                           drop=drop, converter=is_converter(layer))
              for layer, drop in drops.items()]
    found = analysis.Analysis(plan.quantize, plan.iterations, plan.model, plan.files.model,
                              plan.key, datetime.now(timezone.utc).isoformat(), layers)
    AnalysisCache(plan.quantize).store_result(plan.key, found.to_cache())
