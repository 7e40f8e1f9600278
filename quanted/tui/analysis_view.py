"""The editor's view of the per-layer analysis (`a`): a fresh one from the analyze screen goes
to the editor below (MetricSwitch reads the cached one and shows it as the layers table's COS
and DROP columns, greyed with its age in the header when the file changed since), the
highlighted layer's figures for the layers pane, and the summary the analyze screen shows
above its largest drops: what the quantized run measured and, for a model with several
outputs, the per-output figures verify gives (widgets/output_table.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from quanted.tui.screens.metric import MetricSwitch

if TYPE_CHECKING:
    from rich.console import RenderableType
    from textual.app import App

    from quanted.core.engine.analysis import Analysis


def show_on_editor(app: App[object], found: Analysis) -> None:
    """A fresh analysis goes straight to the editor screen below (the one showing its file)."""
    for screen in app.screen_stack:
        metric = getattr(screen, "metric", None)
        if isinstance(metric, MetricSwitch) and metric.session.path.absolute() == found.file:
            metric.show_analysis(found)


def detail(figures: dict, layer: str) -> str:
    """` · producers' cosine → its cosine (drop)`: the damage happening, for the highlighted
    layer; "" without figures."""
    found = figures.get(layer)
    if found is None:
        return ""
    feeding = [f"{figures[p].cosine:.4f}" for p in found.producers if p in figures]
    before = ", ".join(feeding) if feeding else ("input" if not found.producers else "-")
    drop = "-" if found.drop is None else f"{found.drop:+.4f}"
    return f"  ·  cos {before} → {found.cosine:.4f}  drop {drop}"


def summary(found: Analysis) -> list[RenderableType]:
    """`quantized: the file's table: ...` (verify's words), then the per-output table when the
    model has several outputs (one output's figures are its row in the table of drops)."""
    from rich.text import Text

    from quanted.tui.widgets.output_table import outputs_table

    parts: list[RenderableType] = []
    if found.configuration:
        parts.append(Text(f"quantized: {found.configuration}", style="bold"))
    if len(found.outputs) > 1:
        parts.append(outputs_table("quantized", found.outputs, compact=True))
    return parts
