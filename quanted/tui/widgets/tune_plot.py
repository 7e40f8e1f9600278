"""Layers raised vs worst cosine, one bar per count measured, in the entropy histogram's style:
bars that meet the target in the primary colour, the others in the warning colour. When the
trials ran a task check that printed a metric (`tune --check`), a band below draws it for the
same trial of each count (search.operating_points), from 0 (or the lowest metric, if below)
to the highest: acceptable in the success colour, not acceptable in the error colour; the
count of the set chosen is marked `*`."""

from __future__ import annotations

from textual.content import Content
from textual.widget import Widget

BLOCKS = " ▁▂▃▄▅▆▇█"
Check = tuple[bool | None, float | None]  # the check's verdict and metric on a point's trial


def _bars(values: list[float | None], low: float, span: float, rows: int, cell: int,
          styles: list[str], least: int = 0) -> list[str | tuple[str, str]]:
    """`rows` lines of one bar per value (None: an empty cell), each scaled from low and at
    least `least` eighths high (a metric of 0 is measured, not missing)."""
    lines: list[str | tuple[str, str]] = []
    for level in range(rows, 0, -1):
        for value, style in zip(values, styles):
            if value is None:
                lines.append(" " * cell)
                continue
            eighths = max(least, round((max(value, low) - low) / span * rows * 8))
            filled = max(0, min(8, eighths - (level - 1) * 8))
            lines.append((BLOCKS[filled] * (cell - 1) + " ", style))
        lines.append("\n")
    return lines


class TunePlot(Widget):
    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.points: list[tuple[int, float]] = []
        self.checks: dict[int, Check] = {}
        self.chosen: int | None = None
        self.target = 0.99

    def show(self, points: list[tuple[int, float]], target: float,
             checks: dict[int, Check] | None = None, chosen: int | None = None) -> None:
        """`checks`: per count, the check's verdict and metric on the plotted trial; `chosen`:
        the count of the set the search found."""
        self.points, self.target = points, target
        self.checks, self.chosen = checks or {}, chosen
        metrics = [m for _, m in self.checks.values() if m is not None]
        subtitle = f"target {target:g}" if points else ""
        if metrics and points:
            subtitle += f" · below: check metric {min(0.0, min(metrics)):g}–{max(metrics):g}"
        self.border_subtitle = subtitle
        self.refresh()

    def render(self) -> Content:
        width, height = self.content_region.width, self.content_region.height
        if not self.points:
            return Content.styled("No trial measured yet.", "dim")
        if width < 8 or height < 3:
            return Content("")
        cell = max(3, min(6, width // max(1, len(self.points))))
        shown = self.points[-max(1, width // cell):]
        rows = height - 1
        metrics = [self.checks.get(count, (None, None))[1] for count, _ in shown]
        band = max(2, rows // 3) if rows >= 5 and any(m is not None for m in metrics) else 0
        low = min(min(c for _, c in shown), self.target) - 0.01
        lines = _bars([c for _, c in shown], low, max(1.0 - low, 1e-9), rows - band, cell,
                      ["$text-primary" if c >= self.target else "$text-warning"
                       for _, c in shown])
        if band:
            known = [m for m in metrics if m is not None]
            bottom = min(0.0, min(known))
            verdicts = [self.checks.get(count, (None, None))[0] for count, _ in shown]
            lines += _bars(metrics, bottom, max(max(known) - bottom, 1e-9), band, cell,
                           ["$text-success" if ok else "$text-error" if ok is False
                            else "$text-muted" for ok in verdicts], least=1)
        for count, _ in shown:
            label = (str(count) + ("*" if count == self.chosen else ""))[: cell - 1].ljust(cell)
            lines.append((label, "bold") if count == self.chosen else label)
        return Content.assemble(*lines)
