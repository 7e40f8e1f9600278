"""The histogram of the metric the `>` threshold ranks by, with the threshold marked: entropy
(every tensor of the report, 0..1), or drop (every analysed layer, over the range its drops
span)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from textual.content import Content
from textual.widget import Widget

from quanted.core.format.entropy import EntropyReport
from quanted.tui import wording

if TYPE_CHECKING:
    import numpy as np

BLOCKS = " ▁▂▃▄▅▆▇█"
TITLES = {"entropy": "entropy (tensors, log scale)", "drop": "drop (layers, log scale)"}
EMPTY = {"entropy": "No entropy report: sorted by file order.",
         "drop": "No layer of the analysis has a drop."}
SMALLEST_SPAN = 1e-3  # a drop axis when every drop is the same


class Histogram(Widget):
    """Bars on a log scale; bins at or above the threshold are highlighted."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.report: EntropyReport | None = None
        self.metric = "entropy"
        self.drops: np.ndarray | None = None  # the layers' drops, when the metric is drop
        self.threshold: float | None = None
        self.above = 0
        self._counts: dict[tuple[int, float, float], list[int]] = {}

    def set_report(self, report: EntropyReport | None) -> None:
        if report is not self.report:
            self.report = report
            self._counts.clear()
        self.refresh()

    def show_metric(self, metric: str, drops: np.ndarray | None, other: str | None) -> None:
        """Draw `metric` (drop: `drops`, one per layer that has one); `other`: the metric `m`
        switches to, named in the title, None when there is none."""
        self.metric, self.drops = metric, drops
        self._counts.clear()
        self.border_title = TITLES[metric] + (f" · m: {other}" if other else "")
        self.refresh()

    def set_threshold(self, threshold: float | None, above: int) -> None:
        self.threshold = threshold
        self.above = above
        self.border_subtitle = "" if threshold is None else (
            f"threshold {wording.threshold(threshold)}: "
            f"{wording.count(above, 'layer')} at or above")
        self.refresh()

    def has_values(self) -> bool:
        if self.metric == "entropy":
            return self.report is not None
        return self.drops is not None and len(self.drops) > 0

    def span(self) -> tuple[float, float]:
        """The axis: entropy 0..1; drop from min(0, lowest) to the highest drop or the
        threshold, whichever is further (so the marker stands where its value is)."""
        if self.metric == "entropy" or self.drops is None or not len(self.drops):
            return 0.0, 1.0
        low = min(0.0, float(self.drops.min()))
        high = max(float(self.drops.max()), self.threshold or 0.0)
        return low, max(high, low + SMALLEST_SPAN)

    def bins(self, count: int) -> list[int]:
        """How many values fall in each of `count` equal bins over span()."""
        low, high = self.span()
        key = (count, low, high)
        if key not in self._counts:
            if self.metric == "entropy":
                assert self.report is not None
                counts, _edges = self.report.histogram(bins=count)
            else:
                import numpy as np

                assert self.drops is not None
                counts, _edges = np.histogram(self.drops, bins=count, range=(low, high))
            self._counts[key] = [int(c) for c in counts]
        return self._counts[key]

    def render(self) -> Content:
        width, height = self.content_region.width, self.content_region.height
        if not self.has_values():
            return Content.styled(EMPTY[self.metric], "dim")
        if width < 8 or height < 2:
            return Content("")
        bins = max(5, min(50, width))
        cell = max(1, width // bins)
        counts = self.bins(bins)
        low, high = self.span()
        top = math.log1p(max(counts)) or 1.0
        rows = height - 1
        where = None if self.threshold is None else (self.threshold - low) / (high - low)
        cut = None if where is None else min(bins, int(where * bins))
        lines: list[str | tuple[str, str]] = []
        for level in range(rows, 0, -1):
            for i, count in enumerate(counts):
                eighths = round(math.log1p(count) / top * rows * 8)
                filled = max(0, min(8, eighths - (level - 1) * 8))
                if count and level == 1:
                    filled = max(filled, 1)
                style = "$text-warning" if cut is not None and i >= cut else "$text-primary"
                lines.append((BLOCKS[filled] * cell, style))
            lines.append("\n")
        size = bins * cell
        texts = [f"{value:.3g}" for value in (low, (low + high) / 2, high)]
        ticks = [(0, texts[0]), (size // 2 - len(texts[1]) // 2, texts[1]),
                 (size - len(texts[2]), texts[2])]
        marked: tuple[int, str] | None = None
        if where is not None and self.threshold is not None:
            # The ▲ stands where the threshold is on the axis, and says the same number as
            # the status line and the `>` dialog.
            marker = min(size - 1, max(0, round(where * size)))
            label = f"▲{wording.threshold(self.threshold)}"
            if marker + len(label) > size:  # no room right of ▲: the number goes left
                label = f"{wording.threshold(self.threshold)}▲"
                marker = max(0, marker - len(label) + 1)
            marked = (marker, label)
            # An axis number the marker's touches is left out ("▲0.070.09" reads as one).
            ticks = [(pos, text) for pos, text in ticks
                     if pos + len(text) < marker or pos > marker + len(label)]
        axis = [" "] * size
        for pos, text in ticks:
            for j, ch in enumerate(text):
                if 0 <= pos + j < size:
                    axis[pos + j] = ch
        if marked is None:
            lines.append("".join(axis))
        else:
            start, label = marked
            lines.append("".join(axis[:start]))
            lines.append((label, "bold $text-warning"))
            lines.append("".join(axis[start + len(label):]))
        return Content.assemble(*lines)
