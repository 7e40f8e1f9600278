"""a: per-layer error analysis (`quanted analyze` in the editor).

One worker runs quanted.core.engine.analysis (the float run only when its dumps are not cached,
then the quantized run), with a progress bar over runs x inputs, the live log, and cancel
(escape or ctrl+c). After: what it measured, the per-output figures of a model with several
outputs, the worst drops, and the editor's table gains `COS` and `DROP`
columns (MainScreen reads the cached analysis when this screen closes)."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Group
from rich.table import Table
from textual import on, work
from textual.app import ComposeResult
from textual.message import Message
from textual.widgets import Label, ProgressBar, Static

from quanted.core.document.model import QuantizeDocument
from quanted.core.engine import analysis
from quanted.core.document.layers import applied_qtypes, is_pending
from quanted.tui import analysis_view
from quanted.tui.keymap import ENGINE_SCREEN_KEYS
from quanted.tui.screens.engine_base import EngineScreen
from quanted.tui.widgets.engine_log import EngineLog, status_row
from quanted.tui.widgets.key_hints import KeyHints

TOP = 8


class AnalyzeScreen(EngineScreen):
    VERB = "analyze"
    STEP = "#analyze-step"

    class Stepped(Message):
        def __init__(self, progress: analysis.Progress) -> None:
            super().__init__()
            self.progress = progress

    class Finished(Message):
        def __init__(self, result: analysis.Analysis, pending: list[str]) -> None:
            super().__init__()
            self.result = result
            self.pending = pending  # customized layers the file does not apply yet

    def __init__(self, doc: QuantizeDocument, display_name: str) -> None:
        super().__init__(doc, display_name)
        self.result: analysis.Analysis | None = None

    def compose(self) -> ComposeResult:
        yield Label(f"Analyze · {self.display_name}: float vs quantized, layer by layer",
                    id="analyze-title", classes="engine-title")
        yield from status_row("analyze-step", "Starting…", bar="analyze-bar")
        yield Static("", id="analyze-result")
        yield EngineLog(id="log")
        yield KeyHints(specs=ENGINE_SCREEN_KEYS, id="keys")

    def on_mount(self) -> None:
        self.begin()
        self.run_engine()

    @work(thread=True, exclusive=True, exit_on_error=False, group="engine")
    def run_engine(self) -> None:
        the_plan = analysis.plan(self.doc)

        def progress(step: analysis.Progress) -> None:
            self.post_message(self.Stepped(step))

        with self.events("analyze", progress) as events:
            result = analysis.run(the_plan, events, self.token)
        applied = applied_qtypes(self.doc)
        pending = [layer for layer, value in self.doc.customized.items()
                   if is_pending(layer, value, applied)]
        self.post_message(self.Finished(result, pending))

    @on(Stepped)
    def _stepped(self, message: Stepped) -> None:
        p = message.progress
        where = f"input {p.input} of {p.inputs}" if p.input else "starting"
        self.say_step(f"[{p.run}/{p.runs}] {p.title} run: {where}")
        self.query_one("#analyze-bar", ProgressBar).update(total=p.runs * p.inputs,
                                                           progress=round(p.fraction * p.runs
                                                                          * p.inputs))

    @on(Finished)
    def _finished(self, message: Finished) -> None:
        self.end()
        self.ran = True
        self.result = result = message.result
        bar = self.query_one("#analyze-bar", ProgressBar)
        bar.update(total=bar.total or 1, progress=bar.total or 1)
        runs = ("no engine run: the file is unchanged since this analysis"
                if result.engine_runs == 0 else f"{result.engine_runs} engine run(s)")
        self.say_step(f"Done: {len(result.layers)} layer outputs x {result.iterations} inputs, "
                   f"{runs}.", "bold green")
        self.query_one("#analyze-result", Static).update(
            Group(*analysis_view.summary(result), worst_drops(result, message.pending)))
        analysis_view.show_on_editor(self.app, result)

    def engine_failed(self, error: BaseException | None) -> None:
        self.query_one("#analyze-result", Static).update(
            self.failure(error, named="the {} run", kept="Nothing was kept."))


def worst_drops(result: analysis.Analysis, pending: Sequence[str] = ()) -> Table:
    """The layers that do the most damage themselves, with their producers' cosine; `pending`:
    customized layers the file does not apply yet (measured at the file's qtype), marked ○."""
    by_key = {(f.layer, f.port): f for f in result.layers}
    cos = {f.layer: f.cosine for f in by_key.values() if f.port == "out0"}
    ranked = sorted((f for f in result.layers if f.drop is not None),
                    key=lambda f: -(f.drop or 0.0))[:TOP]
    marked = [f.layer for f in ranked if f.layer in pending]
    caption = (f"○ customized, not applied yet ({len(marked)} of these): measured at the file's "
               "qtype; ctrl+r (the hybrid run) applies it" if marked else None)
    table = Table(title="Largest drops (esc closes; the table gains COS and DROP, s sorts by "
                  "them)", title_justify="left", expand=False, caption=caption,
                  caption_justify="left")
    for name in ("layer", "producers' cosine", "cosine", "drop"):
        table.add_column(name, justify="left" if name == "layer" else "right")
    for f in ranked:
        feeding = ", ".join(f"{cos[p]:.4f}" for p in f.producers if p in cos) or "input"
        mark = "○ " if f.layer in pending else ""
        table.add_row(mark + f.layer + (" [converter]" if f.converter else ""), feeding,
                      f"{f.cosine:.6f}" + ("c" if f.clamped else ""), f"{f.drop:+.6f}")
    return table
