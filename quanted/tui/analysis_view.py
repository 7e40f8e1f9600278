"""The editor's view of the per-layer analysis (`a`): a fresh one from the analyze screen goes
to the editor below (MetricSwitch reads the cached one and shows it as the layers table's COS
and DROP columns, greyed with its age in the header when the file changed since), and the
highlighted layer's figures for the layers pane."""

from __future__ import annotations

from typing import TYPE_CHECKING

from quanted.tui.screens.metric import MetricSwitch

if TYPE_CHECKING:
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
