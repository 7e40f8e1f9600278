"""m: the histogram, the `>` threshold and its preview rank by drop (the analysis's figure)
instead of max entropy, and back. The analysis is written to the cache the way `quanted analyze`
stores one (tests/core/cached_analysis.py: no engine, made-up figures, the real cache)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from tui_helpers import settle

from quanted.core.document.model import QuantizeDocument
from quanted.tui.app import QuantedApp
from quanted.tui.dialogs.threshold import ThresholdDialog
from quanted.tui.screens.main import MainScreen
from quanted.tui.widgets.histogram import Histogram
from quanted.tui.widgets.status_bar import StatusBar
from tests.core import cached_analysis
from tests.core.docs import v2_tensor

# A converter a hybrid run inserted: given the worst drop, it must still never be proposed.
CONVERTER = "layer2/layer2.0/conv1/Conv_output_0_20_pre_asymmetric_affineu8_to_float16float16_41"
CUSTOMIZED = "layer3/layer3.0/conv2/Conv_output_0_7"  # customized in the sample: never again


def made_up_drops(path) -> dict[str, float | None]:
    """Every layer a drop, some negative (a layer that makes up for its input), every 7th none;
    the converter and a customized layer the two worst."""
    layers = QuantizeDocument.open(path).layer_ids
    rng = np.random.default_rng(8)
    drops: dict[str, float | None] = {
        layer: None if i % 7 == 3 else float(rng.normal(0.004, 0.006))
        for i, layer in enumerate(layers)}
    drops[CONVERTER], drops[CUSTOMIZED] = 0.09, 0.07
    return drops


@pytest.fixture
def analysed(sample):
    text = sample.read_text().replace(
        "quantize_parameters:\n", "quantize_parameters:\n" + v2_tensor(f"@{CONVERTER}:out0"), 1)
    sample.write_text(text)
    drops = made_up_drops(sample)
    cached_analysis.store(sample, drops)
    return sample, drops


def _main(app) -> MainScreen:
    return next(s for s in app.screen_stack if isinstance(s, MainScreen))


def floor_4_digits(value: float) -> float:
    step = 10.0 ** (math.floor(math.log10(value)) - 3)
    return math.floor(value / step + 1e-9) * step


async def test_m_switches_histogram_threshold_and_add_to_drop_and_back(analysed):
    path, drops = analysed
    app = QuantedApp(path.name)
    async with app.run_test(size=(140, 36)) as pilot:
        await settle(pilot)
        main = _main(app)
        histogram = main.query_one(Histogram)
        status = main.query_one(StatusBar)
        model = main.model
        assert model.figures and model.analysis_current and model.metric == "entropy"
        assert histogram.border_title == "entropy (tensors, log scale) · m: drop"
        entropy_threshold = main.threshold
        customized_before = dict(main.doc.customized)

        await pilot.press("m")
        assert model.metric == "drop" and histogram.metric == "drop"
        assert histogram.border_title == "drop (layers, log scale) · m: entropy"
        # The default: the top 5% of the layers' drops, rounded down to 4 digits.
        shown = np.array([d for layer, d in drops.items()
                          if d is not None and layer in model.by_layer])
        ranked = np.sort(shown)[::-1]
        top = max(ranked[len(ranked) // 20], ranked[ranked > 0].min())
        threshold = main.threshold
        assert threshold == pytest.approx(floor_4_digits(top), rel=1e-12)
        assert threshold <= top
        # The histogram: numpy's over the same drops, on an axis from min(0, lowest) to the
        # highest (the threshold is inside it).
        low, high = histogram.span()
        assert (low, high) == (min(0.0, shown.min()), shown.max())
        expected, _ = np.histogram(shown, bins=40, range=(low, high))
        assert histogram.bins(40) == expected.tolist()
        above = int(np.count_nonzero(shown >= threshold))
        assert main.above == above
        assert f"{above} drop ≥ {threshold:.4g}" in str(status.render())
        assert f"▲{threshold:.4g}" in str(histogram.render())
        assert histogram.border_subtitle == f"threshold {threshold:.4g}: {above} layers at or above"

        await pilot.press("greater_than_sign")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, ThresholdDialog)
        assert "a drop of" in str(dialog.query_one(".dialog-title").render())
        assert "top 5% of the analysed layers by drop" in str(
            dialog.query_one("#threshold-why").render())
        chosen = 0.006
        dialog.query_one("Input").value = str(chosen)
        await pilot.pause()
        at_or_above = [layer for layer, d in drops.items() if d is not None and d >= chosen]
        to_add = {layer for layer in at_or_above
                  if layer != CONVERTER and layer not in customized_before}
        assert CONVERTER in at_or_above and CUSTOMIZED in at_or_above
        assert 2 < len(to_add) < len(at_or_above)
        preview = str(dialog.query_one("#threshold-preview").render())
        assert preview.startswith(f"{len(at_or_above)} layers at or above 0.006; "
                                  f"{len(to_add)} of them are not customized yet")
        await pilot.press("enter")
        await settle(pilot)
        added = set(main.doc.customized) - set(customized_before)
        assert added == to_add
        assert main.threshold == chosen and model.metric == "drop"

        # Saved, the analysis is stale (the file changed): still shown, drop still ranks.
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert main.model.figures and not main.model.analysis_current
        assert main.model.metric == "drop" and main.threshold == chosen

        await pilot.press("m")  # back: entropy, with the threshold it had
        model = main.model
        assert model.metric == "entropy" and histogram.metric == "entropy"
        assert histogram.border_title == "entropy (tensors, log scale) · m: drop"
        assert main.threshold == entropy_threshold
        best = [row.max_entropy for row in model.rows if row.max_entropy is not None]
        assert main.above == int(np.count_nonzero(np.array(best) >= entropy_threshold))
        assert f"{main.above} ≥ {entropy_threshold:.4g}" in str(status.render())
        assert histogram.span() == (0.0, 1.0)
        await pilot.press("m")  # and drop again keeps the threshold chosen for drop
        assert main.model.metric == "drop" and main.threshold == chosen


async def test_m_without_an_analysis_says_how_to_get_one(sample):
    app = QuantedApp(sample.name)
    async with app.run_test(size=(140, 36)) as pilot:
        await settle(pilot)
        main = _main(app)
        threshold = main.threshold
        await pilot.press("m")
        await pilot.pause()
        assert main.model.metric == "entropy" and main.threshold == threshold
        assert main.query_one(Histogram).border_title == "entropy (tensors, log scale)"
        assert any("press a to run one" in str(n.message) for n in app._notifications)


def test_snapshot_drop_histogram(analysed, snap_compare):
    path, _ = analysed

    async def drop(pilot):
        await settle(pilot)
        await pilot.press("m")
        await pilot.pause()

    assert snap_compare(QuantedApp(path.name, display_name=path.name),
                        terminal_size=(140, 30), run_before=drop)
