"""What the histogram and the `>` threshold rank layers by: max entropy, or drop (the damage
each layer does itself, from the analysis `a` made), switched with `m`. Each metric keeps its
own threshold."""

from __future__ import annotations

from quanted.tui.dialogs.threshold import ThresholdDialog
from quanted.tui.metrics import DROP, ENTROPY
from quanted.tui.screens.editor import Editor

MEASURES = {ENTROPY: "max entropy", DROP: "drop"}  # "add layers at or above a ... of"
NO_ANALYSIS = ("No analysis with drop figures for this file: press a to run one. The histogram "
               "and > rank by entropy until then.")


class MetricSwitch:
    """The metric of `editor`'s model, histogram and threshold. `chosen` is what `m` last
    chose; the model shows it when it has the figures (after a reload, entropy until the
    analysis is read again, then the choice comes back)."""

    def __init__(self, editor: Editor) -> None:
        self.editor = editor
        self.chosen = ENTROPY
        self.threshold_metric = ENTROPY  # the metric `editor.threshold` belongs to
        self.thresholds: dict[str, float] = {}  # each metric's threshold, but the active one's

    def show(self) -> None:
        """Point the model, the histogram, the threshold and the status at the chosen metric
        (after a load, an analysis shown, or `m`)."""
        import numpy as np  # after the first paint, as the model's own import

        from quanted.tui.thresholds import default_threshold

        editor = self.editor
        model = editor.model
        if model is None:
            return
        saved = dict(self.thresholds)
        if editor.threshold is not None:
            saved[self.threshold_metric] = editor.threshold
        drops = model.has_drops()
        active = DROP if self.chosen == DROP and drops else ENTROPY
        model.set_metric(active)
        if active not in saved and (active == DROP or editor.report is not None):
            saved[active] = default_threshold(model)
        self.thresholds, self.threshold_metric = saved, active
        histogram = editor.histogram
        histogram.set_report(editor.report)
        values = model.metric_values(DROP) if drops else None
        histogram.show_metric(active, None if values is None else values[~np.isnan(values)],
                              ENTROPY if active == DROP else DROP if drops else None)
        histogram.set_threshold(None, 0)
        self.set_threshold(saved.get(active))
        editor.table.refresh()  # the rows marked at or above the threshold

    def set_threshold(self, threshold: float | None) -> None:
        editor = self.editor
        editor.threshold = threshold
        editor.table.threshold = threshold
        if editor.model is not None and threshold is not None:
            editor.above = editor.model.count_at_or_above(threshold)
            editor.histogram.set_threshold(threshold, editor.above)
        editor.refresh_status()

    def switch(self) -> None:
        model = self.editor.model
        if model is None:
            self.editor.notify("Still loading…", severity="warning")
            return
        if model.metric == ENTROPY and not model.has_drops():
            self.editor.notify(NO_ANALYSIS, severity="warning", timeout=8)
            return
        self.chosen = ENTROPY if model.metric == DROP else DROP
        self.show()

    def threshold_dialog(self) -> ThresholdDialog:
        """The `>` dialog for the active metric, starting at its threshold."""
        from quanted.tui.thresholds import threshold_reason

        model = self.editor.model
        assert model is not None
        return ThresholdDialog(
            self.editor.threshold or 0.5, model.preview_counts, threshold_reason(model),
            "among the layers the filter shows" if model.filter_text else "",
            measure=MEASURES[model.metric])
