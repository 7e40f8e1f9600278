"""What the histogram and the `>` threshold rank layers by: max entropy, or drop (the damage
each layer does itself, from the analysis `a` made), switched with `m`. Each metric keeps its
own threshold. The analysis is read here too: its figures are what drop ranks by."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.screen import Screen

from quanted.tui.dialogs.threshold import ThresholdDialog
from quanted.tui.row_view import DROP, ENTROPY
from quanted.tui.session import EditSession
from quanted.tui.widgets.histogram import Histogram
from quanted.tui.widgets.layer_table import LayerTable

if TYPE_CHECKING:
    from quanted.core.engine.analysis import Analysis

MEASURES = {ENTROPY: "max entropy", DROP: "drop"}  # "add layers at or above a ... of"
NO_ANALYSIS = ("No analysis with drop figures for this file: press a to run one. The histogram "
               "and > rank by entropy until then.")


class MetricSwitch:
    """The metric of `session`'s model and of the histogram and table on `screen`, and the
    `>` threshold. `chosen` is what `m` last chose; the model shows it when it has the
    figures (after a reload, entropy until the analysis is read again, then the choice comes
    back)."""

    def __init__(self, session: EditSession, screen: Screen[None]) -> None:
        self.session = session
        self.screen = screen
        self.chosen = ENTROPY
        self.threshold: float | None = None  # the `>` threshold of the metric shown
        self.above = 0  # how many layers are at or above it
        self.threshold_metric = ENTROPY  # the metric `threshold` belongs to
        self.thresholds: dict[str, float] = {}  # each metric's threshold, but the active one's

    def show(self) -> None:
        """Point the model, the histogram, the threshold and the status at the chosen metric
        (after a load, an analysis shown, or `m`)."""
        import numpy as np  # after the first paint, as the model's own import

        from quanted.tui.thresholds import default_threshold

        session = self.session
        model = session.model
        if model is None:
            return
        saved = dict(self.thresholds)
        if self.threshold is not None:
            saved[self.threshold_metric] = self.threshold
        drops = model.has_drops()
        active = DROP if self.chosen == DROP and drops else ENTROPY
        model.set_metric(active)
        if active not in saved and (active == DROP or session.report is not None):
            saved[active] = default_threshold(model)
        self.thresholds, self.threshold_metric = saved, active
        histogram = self.screen.query_one(Histogram)
        histogram.set_report(session.report)
        values = model.metric_values(DROP) if drops else None
        histogram.show_metric(active, None if values is None else values[~np.isnan(values)],
                              ENTROPY if active == DROP else DROP if drops else None)
        histogram.set_threshold(None, 0)
        self.set_threshold(saved.get(active))
        self.screen.query_one(LayerTable).refresh()  # the rows marked at or above the threshold

    def set_threshold(self, threshold: float | None) -> None:
        model = self.session.model
        self.threshold = threshold
        self.screen.query_one(LayerTable).threshold = threshold
        if model is not None and threshold is not None:
            self.above = model.count_at_or_above(threshold)
            self.screen.query_one(Histogram).set_threshold(threshold, self.above)
        self.session.changed()

    def switch(self) -> None:
        model = self.session.model
        if model is None:
            self.screen.notify("Still loading…", severity="warning")
            return
        if model.metric == ENTROPY and not model.has_drops():
            self.screen.notify(NO_ANALYSIS, severity="warning", timeout=8)
            return
        self.chosen = ENTROPY if model.metric == DROP else DROP
        self.show()

    def threshold_dialog(self) -> ThresholdDialog:
        """The `>` dialog for the active metric, starting at its threshold."""
        from quanted.tui.thresholds import threshold_reason

        model = self.session.model
        assert model is not None
        return ThresholdDialog(
            self.threshold or 0.5, model.preview_counts, threshold_reason(model),
            "among the layers the filter shows" if model.filter_text else "",
            measure=MEASURES[model.metric])

    # -- the analysis (`a`): its figures are the drop metric --------------------------------

    def load_analysis(self) -> None:
        """Read the newest cached analysis of the file in a thread, then show it."""
        path = self.session.path

        def read() -> None:
            from quanted.core.engine.analysis import load_latest

            found = load_latest(path)
            self.screen.app.call_from_thread(self.show_analysis, found)

        self.screen.run_worker(read, thread=True, group="analysis", exit_on_error=False)

    def show_analysis(self, found: Analysis | None) -> None:
        """The analysis as the table's COS and DROP columns (None: no columns), then the
        chosen metric again."""
        from quanted.core.engine.analysis import age_text

        model = self.session.model
        if model is None:
            return
        table = self.screen.query_one(LayerTable)
        keep = table.current.layer if table.current else None
        if found is None:
            model.set_analysis(None)
        else:
            model.set_analysis(found.by_layer(), found.current, age_text(found.age_seconds()))
        table.rows_changed(keep=keep)
        self.show()  # drop, when `m` chose it before a reload; entropy without figures
