"""e: `pegasus export ovxlib` from the hybrid model (quanted.core.engine.export), with the log
as it comes and the case folder's files at the end. A refusal (no hybrid run yet, the list
changed or the file rebuilt since it, a folder that is not empty) is shown with what ctrl+f
overrides; when the hybrid model is stale, ctrl+r closes and opens the hybrid run."""

from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.message import Message
from textual.widgets import Label, Static

from quanted.core.document.model import QuantizeDocument
from quanted.core.engine import export
from quanted.core.engine.command import quoted
from quanted.core.engine.step import StepEnded
from quanted.tui.keymap import ENGINE_SCREEN_KEYS, EXPORT_KEYS
from quanted.tui.screens.engine_base import EngineScreen, error_text
from quanted.tui.widgets.engine_log import EngineLog, status_row
from quanted.tui.widgets.key_hints import KeyHints


class ExportScreen(EngineScreen):
    BINDINGS = [spec.binding() for spec in EXPORT_KEYS]
    VERB = "export"
    STEP = "#export-step"

    class Planned(Message):
        def __init__(self, the_plan: export.ExportPlan) -> None:
            super().__init__()
            self.plan = the_plan

    class Finished(Message):
        def __init__(self, result: export.ExportResult) -> None:
            super().__init__()
            self.result = result

    def __init__(self, doc: QuantizeDocument, display_name: str) -> None:
        super().__init__(doc, display_name)
        self.stale = False  # refused because the hybrid model is stale: ctrl+r fixes it

    def compose(self) -> ComposeResult:
        yield Label(f"Export · {self.display_name}: pegasus export ovxlib",
                    id="export-title", classes="engine-title")
        yield from status_row("export-step", "Planning…")
        yield Static("", id="export-result", markup=False)
        yield EngineLog(id="log")
        yield KeyHints(specs=(*EXPORT_KEYS, *ENGINE_SCREEN_KEYS), id="keys")

    def on_mount(self) -> None:
        self.start(force=False)

    def start(self, force: bool) -> None:
        self.begin()
        self.run_engine(force)

    @work(thread=True, exclusive=True, exit_on_error=False, group="engine")
    def run_engine(self, force: bool) -> None:
        the_plan = export.plan(self.doc, force=force)
        self.post_message(self.Planned(the_plan))
        self.note(f"\x1b[1m$ {quoted(the_plan.command)}\x1b[0m")
        with self.events("export") as events:
            result = export.run(the_plan, events, self.token)
        self.post_message(self.Finished(result))

    @on(Planned)
    def _planned(self, message: Planned) -> None:
        self.ran = True
        self.say_step(f"Exporting {message.plan.model.name} into {message.plan.output}…")
        if message.plan.warnings:
            self._result(Text("\n".join(f"forced: {w}" for w in message.plan.warnings),
                              style="yellow"))

    @on(Finished)
    def _finished(self, message: Finished) -> None:
        self.end()
        self._show(message.result)

    def _show(self, result: export.ExportResult) -> None:
        """A finished export, or a failed or cancelled one (its StepEnded carries it)."""
        if result.status == 0:
            self.say_step(f"Done: {len(result.files)} files.", "bold green")
            text = Text(f"{result.output}:\n", style="bold")
            text.append("\n".join(f"  {name}" for name in result.files))
        else:
            self.say_step("Cancelled." if result.cancelled else "Problems.", "bold red")
            text = Text("")
            for problem in result.problems:
                text.append(f"{problem.describe()}\n", style="bold red")
            if result.engine_status:
                text.append(f"pegasus exited with status {result.engine_status}\n",
                            style="bold red")
            if not result.files:
                text.append(f"nothing was written into {result.output}\n", style="bold red")
        self._result(text)

    def engine_failed(self, error: BaseException | None) -> None:
        if isinstance(error, StepEnded) and isinstance(error.result, export.ExportResult):
            self._show(error.result)
            return
        self.say_step("Not run.", "bold red")
        if isinstance(error, export.ExportRefused):
            self.stale = bool(error.stale)
            lines = ["refusing to export:", *(f"- {why}" for why in error.stale)]
            if error.folder:
                lines.append(f"- {error.folder}")
            if self.stale:
                lines.append("ctrl+r runs the hybrid quantization first; ctrl+f exports anyway.")
            else:
                lines.append("ctrl+f exports anyway.")
            self._result(Text("\n".join(lines), style="bold red"))
            return
        self._result(error_text(error))

    def action_hybrid_first(self) -> None:
        if self.state == "running" or not self.stale:
            return
        self.then = "hybrid"  # the editor opens the hybrid run when this screen closes
        self.dismiss(self.ran)

    def action_force(self) -> None:
        if self.state == "running":
            return
        self.stale = False
        self.log_view.clear()
        self.start(force=True)

    def _result(self, text: Text) -> None:
        self.query_one("#export-result", Static).update(text)
