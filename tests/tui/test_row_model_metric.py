"""The row model ranking by drop (`m`): counts, what `>` adds, the filter, converters, and the
starting threshold; no app needed."""

from __future__ import annotations

import numpy as np
import pytest

from quanted.core.engine.layer_figures import LayerFigures
from quanted.core.document.layers import LayerRow
from quanted.tui.row_model import DROP, ENTROPY, RowModel
from quanted.tui.thresholds import default_threshold, drop_threshold, threshold_reason

CONVERTER = "conv_3_pre_asymmetric_affineu8_to_float16float16_9"


def figures(drops: dict[str, float | None]) -> dict[str, LayerFigures]:
    return {layer: LayerFigures(layer, "out0", 0.99, 0.98, 0.99, False, 30.0, 0.1, drop=drop)
            for layer, drop in drops.items()}


def model() -> RowModel:
    rows = [LayerRow(f"conv_{i}", [f"@conv_{i}:out0"], {"out0": 0.1 * i}, order=i)
            for i in range(8)]
    rows.append(LayerRow(CONVERTER, [f"@{CONVERTER}:out0"], {}, order=8, converter=True))
    rows[5].customized = "dynamic_fixed_point-i16"
    found = RowModel(rows)
    found.refresh_customized({"conv_5": "dynamic_fixed_point-i16"})
    return found


DROPS = {"conv_0": 0.02, "conv_1": -0.01, "conv_2": None, "conv_3": 0.005, "conv_4": 0.03,
         "conv_5": 0.05, "conv_6": 0.0, CONVERTER: 0.2, "not_a_row": 0.5}


def test_drop_ranks_counts_and_adds_like_numpy():
    m = model()
    with pytest.raises(ValueError):
        m.set_metric(DROP)  # no analysis yet
    m.set_analysis(figures(DROPS))
    entropy_above = m.count_at_or_above(0.3)
    m.set_metric(DROP)
    values = np.array([d for k, d in DROPS.items() if d is not None and k != "not_a_row"])
    for threshold in (0.0, 0.005, 0.02, 0.1, 0.3):
        above = int(np.count_nonzero(values >= threshold))
        adds = [k for k, d in DROPS.items() if d is not None and d >= threshold
                and k not in ("conv_5", CONVERTER, "not_a_row")]
        assert m.count_at_or_above(threshold) == above
        assert m.preview_counts(threshold) == (len(adds), above)
        assert set(m.layers_to_add(threshold)) == set(adds)
    assert [r.layer for r in m.at_or_above(0.02)] == [CONVERTER, "conv_5", "conv_4", "conv_0"]
    m.set_filter("conv_[04]")
    assert m.preview_counts(0.0) == (2, 2)
    m.set_filter("")
    m.set_metric(ENTROPY)
    assert m.count_at_or_above(0.3) == entropy_above == 5


def test_an_analysis_gone_or_without_drops_falls_back_to_entropy():
    m = model()
    m.set_analysis(figures(DROPS))
    m.set_metric(DROP)
    m.set_analysis(figures({"conv_0": None}))
    assert m.metric == ENTROPY and not m.has_drops()
    m.set_analysis(figures(DROPS))
    m.set_metric(DROP)
    m.set_analysis(None)
    assert m.metric == ENTROPY


def test_drop_threshold_starts_at_the_top_5_percent_rounded_down():
    drops = sorted((0.001 * i + 0.0001234 for i in range(40)), reverse=True)
    assert drop_threshold(drops) == 0.03712  # drops[2] = 0.0371234, 4 digits, down
    assert drop_threshold([0.3, 0.0, -0.1]) == 0.3  # never below the smallest drop above 0
    assert drop_threshold([0.0, -0.1]) == 1.0  # nothing loses cosine: nothing proposed
    m = model()
    m.set_analysis(figures(DROPS))
    m.set_metric(DROP)
    assert default_threshold(m) == 0.2  # 7 ranked: the top one
    assert "top 5% of the analysed layers by drop" in threshold_reason(m)
