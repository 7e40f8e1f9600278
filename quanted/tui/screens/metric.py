"""What the histogram and the `>` threshold rank layers by: max entropy, or drop (the damage
each layer does itself, from the analysis `a` made), switched with `m`. Each metric keeps its
own threshold. Mixed into MainScreen (main.py is at its size limit)."""

from __future__ import annotations

from typing import Any

from quanted.tui.dialogs.threshold import ThresholdDialog
from quanted.tui.metrics import DROP, ENTROPY
from quanted.tui.widgets.histogram import Histogram

MEASURES = {ENTROPY: "max entropy", DROP: "drop"}  # "add layers at or above a ... of"
NO_ANALYSIS = ("No analysis with drop figures for this file: press a to run one. The histogram "
               "and > rank by entropy until then.")


class MetricSwitch:
    """Mixed into MainScreen; `self` is that screen (typed Any: importing it would be a cycle).
    `chosen_metric` is what `m` last chose; the model shows it when it has the figures (after
    a reload, entropy until the analysis is read again, then the choice comes back)."""

    chosen_metric: str = ENTROPY
    threshold_metric: str = ENTROPY  # the metric `self.threshold` belongs to
    metric_thresholds: dict[str, float] = {}  # replaced, never mutated: one per screen

    def show_metric(self: Any) -> None:
        """Point the model, the histogram, the threshold and the status at the chosen metric
        (after a load, an analysis shown, or `m`)."""
        import numpy as np  # after the first paint (issue 14), as the model's own import

        from quanted.tui.thresholds import default_threshold

        model = self.model
        if model is None:
            return
        saved = dict(self.metric_thresholds)
        if self.threshold is not None:
            saved[self.threshold_metric] = self.threshold
        drops = model.has_drops()
        active = DROP if self.chosen_metric == DROP and drops else ENTROPY
        model.set_metric(active)
        if active not in saved and (active == DROP or self.report is not None):
            saved[active] = default_threshold(model)
        self.metric_thresholds, self.threshold_metric = saved, active
        histogram = self.query_one(Histogram)
        histogram.set_report(self.report)
        values = model.metric_values(DROP) if drops else None
        histogram.show_metric(active, None if values is None else values[~np.isnan(values)],
                              ENTROPY if active == DROP else DROP if drops else None)
        histogram.set_threshold(None, 0)
        self._set_threshold(saved.get(active))
        self.table.refresh()  # the rows marked at or above the threshold

    def action_switch_metric(self: Any) -> None:
        model = self.model
        if model is None:
            self.notify("Still loading…", severity="warning")
            return
        if model.metric == ENTROPY and not model.has_drops():
            self.notify(NO_ANALYSIS, severity="warning", timeout=8)
            return
        self.chosen_metric = ENTROPY if model.metric == DROP else DROP
        self.show_metric()

    def threshold_dialog(self: Any) -> ThresholdDialog:
        """The `>` dialog for the active metric, starting at its threshold."""
        from quanted.tui.thresholds import threshold_reason

        model = self.model
        return ThresholdDialog(
            self.threshold or 0.5, model.preview_counts, threshold_reason(model),
            "among the layers the filter shows" if model.filter_text else "",
            measure=MEASURES[model.metric])
