"""Layers raised vs worst cosine, one bar per count measured, in the entropy histogram's style:
bars that meet the target in the primary colour, the others in the warning colour."""

from __future__ import annotations

from textual.content import Content
from textual.widget import Widget

BLOCKS = " ▁▂▃▄▅▆▇█"


class TunePlot(Widget):
    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.points: list[tuple[int, float]] = []
        self.target = 0.99

    def show(self, points: list[tuple[int, float]], target: float) -> None:
        self.points, self.target = points, target
        self.border_subtitle = f"target {target:g}" if points else ""
        self.refresh()

    def render(self) -> Content:
        width, height = self.content_region.width, self.content_region.height
        if not self.points:
            return Content.styled("No trial measured yet.", "dim")
        if width < 8 or height < 3:
            return Content("")
        cell = max(3, min(6, width // max(1, len(self.points))))
        shown = self.points[-max(1, width // cell):]
        low = min(min(c for _, c in shown), self.target) - 0.01
        span = max(1.0 - low, 1e-9)
        rows = height - 1
        lines: list[str | tuple[str, str]] = []
        for level in range(rows, 0, -1):
            for _, cosine in shown:
                eighths = round((max(cosine, low) - low) / span * rows * 8)
                filled = max(0, min(8, eighths - (level - 1) * 8))
                style = "$text-primary" if cosine >= self.target else "$text-warning"
                lines.append((BLOCKS[filled] * (cell - 1) + " ", style))
            lines.append("\n")
        lines.append("".join(str(count)[: cell - 1].ljust(cell) for count, _ in shown))
        return Content.assemble(*lines)
