"""Entropy histogram of every tensor in the report, with the threshold marked."""

from __future__ import annotations

import math

from textual.content import Content
from textual.widget import Widget

from quanted.core.entropy import EntropyReport
from quanted.tui import wording

BLOCKS = " ▁▂▃▄▅▆▇█"


class Histogram(Widget):
    """Bars on a log scale, 0..1; bins at or above the threshold are highlighted."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.report: EntropyReport | None = None
        self.threshold: float | None = None
        self.above = 0
        self._counts: dict[int, list[int]] = {}

    def set_report(self, report: EntropyReport | None) -> None:
        self.report = report
        self._counts.clear()
        self.refresh()

    def set_threshold(self, threshold: float | None, above: int) -> None:
        self.threshold = threshold
        self.above = above
        if threshold is not None:
            self.border_subtitle = (f"threshold {wording.threshold(threshold)}: "
                                    f"{wording.count(above, 'layer')} at or above")
        self.refresh()

    def _bins(self, count: int) -> list[int]:
        if count not in self._counts:
            assert self.report is not None
            counts, _edges = self.report.histogram(bins=count)
            self._counts[count] = [int(c) for c in counts]
        return self._counts[count]

    def render(self) -> Content:
        width, height = self.content_region.width, self.content_region.height
        if self.report is None:
            return Content.styled("No entropy report: sorted by file order.", "dim")
        if width < 8 or height < 2:
            return Content("")
        bins = max(5, min(50, width))
        cell = max(1, width // bins)
        counts = self._bins(bins)
        top = math.log1p(max(counts)) or 1.0
        rows = height - 1
        cut = None if self.threshold is None else min(bins, int(self.threshold * bins))
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
        axis = [" "] * (bins * cell)
        for pos, label in ((0, "0"), (bins * cell // 2 - 1, "0.5"), (bins * cell - 1, "1")):
            for j, ch in enumerate(label):
                if 0 <= pos + j < len(axis):
                    axis[pos + j] = ch
        if cut is not None and self.threshold is not None:
            # The ▲ stands where the threshold is on the 0..1 axis, and says the same number
            # as the status line and the `>` dialog.
            marker = min(len(axis) - 1, max(0, round(self.threshold * len(axis))))
            label = f"▲{wording.threshold(self.threshold)}"
            if marker + len(label) > len(axis):  # no room right of ▲: the number goes left
                label = f"{wording.threshold(self.threshold)}▲"
                marker = max(0, marker - len(label) + 1)
            start = marker
            lines.append("".join(axis[:start]))
            lines.append((label, "bold $text-warning"))
            lines.append("".join(axis[start + len(label):]))
        else:
            lines.append("".join(axis))
        return Content.assemble(*lines)
