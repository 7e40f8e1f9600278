"""The editor's view of the per-layer analysis (`a`): the newest cached one, current or stale,
read in a thread and shown as the layers table's COS and DROP columns (greyed, with its age in
the header, when the file changed since); and the summary the analyze screen shows above its
largest drops: what the quantized run measured and, for a model with several outputs, the
per-output figures verify gives (widgets/output_table.py)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, cast

if TYPE_CHECKING:
    from rich.console import RenderableType
    from textual.app import App

    from quanted.core.engine.analysis import Analysis
    from quanted.tui.screens.editor import Editor  # MainScreen, which imports this module


def latest(path: Path) -> Analysis | None:
    from quanted.core.engine.analysis import load_latest

    return load_latest(path)


def load(screen: Editor) -> None:
    """Read the analysis in a worker thread, then show it on `screen` (its model and table)."""

    def read() -> None:
        found = latest(screen.path)
        screen.app.call_from_thread(show, screen, found)

    screen.run_worker(read, thread=True, group="analysis", exit_on_error=False)


def show_on_editor(app: App[object], found: Analysis) -> None:
    """A fresh analysis goes straight to the editor screen below (the one showing its file)."""
    for screen in app.screen_stack:
        path = getattr(screen, "path", None)
        if path is not None and Path(path).absolute() == found.file and hasattr(screen, "table"):
            show(cast("Editor", screen), found)  # a screen with a file and a table: the editor


def show(screen: Editor, found: Analysis | None) -> None:
    from quanted.core.engine.analysis import age_text

    model = screen.model
    if model is None:
        return
    keep = screen.table.current.layer if screen.table.current else None
    if found is None:
        model.set_analysis(None)
    else:
        model.set_analysis(found.by_layer(), found.current, age_text(found.age_seconds()))
    screen.table.rows_changed(keep=keep)
    screen.metric.show()  # drop, when `m` chose it before a reload; entropy without figures


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
