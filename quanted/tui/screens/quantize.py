"""The first quantization, in the editor: opening a model folder or a MODEL.json that has no
NAME_POSTFIX.quantize yet offers `quanted quantize`'s options with their defaults, shows the
exact command as they change, streams the engine's log, and is dismissed with the written file
(the editor then opens it). It drives the step as every engine screen does (core/engine/step.py:
plan, run with Events and a Cancel, the result or a StepEnded), without an open document: this
step makes the file."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import closing
from pathlib import Path

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Grid, Horizontal
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Checkbox, Input, Label, Select, Static
from textual.worker import Worker, WorkerState

from quanted.core.engine import quantize
from quanted.core.engine.command import quoted
from quanted.core.engine.noise import KeptLog
from quanted.core.engine.step import Cancel, Events, StepEnded
from quanted.core.errors import QuantedError
from quanted.tui.keymap import QUANTIZE_KEYS
from quanted.tui.widgets.engine_log import EngineLog, Stopwatch, status_row
from quanted.tui.widgets.key_hints import KeyHints


def _number(text: str) -> int | None:
    text = text.strip()
    return int(text) if text.isdigit() else None


class QuantizeScreen(Screen[Path | None]):
    """Dismissed with the .quantize file written, or None."""

    BINDINGS = [spec.binding() for spec in QUANTIZE_KEYS]

    class Finished(Message):
        def __init__(self, result: quantize.QuantizeResult) -> None:
            super().__init__()
            self.result = result

    def __init__(self, model: Path, pegasus: str | None = None) -> None:
        super().__init__()
        self.model = model
        self.pegasus = pegasus
        self.running = False
        self.token = Cancel()  # the run's; a new one for each run

    def compose(self) -> ComposeResult:
        yield Label(f"Quantize · {self.model.name}: pegasus quantize --rebuild --compute-entropy",
                    classes="engine-title")
        with Grid(id="quantize-form"):
            yield Label("quantizer")
            yield Select([(q, q) for q in quantize.QUANTIZERS], value="asymmetric_affine",
                         allow_blank=False, id="quantizer")
            yield Label("qtype")
            yield Select([(q, q) for q in quantize.QTYPES], value="uint8", allow_blank=False,
                         id="qtype")
            yield Label("postfix")
            yield Input(placeholder="the qtype", id="postfix")
            yield Label("iterations")
            yield Input(placeholder="one pass over the dataset", id="iterations", type="integer")
            yield Label("batch size")
            yield Input(placeholder="engine default; 100 with KLD", id="batch-size",
                        type="integer")
            yield Label("KLD bits")
            yield Input(placeholder="12", id="bits", type="integer")
        with Horizontal(id="quantize-switches"):
            yield Checkbox("KL divergence (--kld)", id="kld")
            yield Checkbox("--MLE (slower)", id="mle")
        yield from status_row("quantize-step")
        yield Static("", id="quantize-command", markup=False)
        yield EngineLog(id="log")
        yield KeyHints(specs=QUANTIZE_KEYS, id="keys")

    def on_mount(self) -> None:
        self._preview()

    def options(self) -> quantize.QuantizeOptions:
        kld = self.query_one("#kld", Checkbox).value
        return quantize.QuantizeOptions(
            postfix=self.query_one("#postfix", Input).value.strip() or None,
            quantizer=str(self.query_one("#quantizer", Select).value),
            qtype=str(self.query_one("#qtype", Select).value),
            iterations=_number(self.query_one("#iterations", Input).value),
            kld=kld, mle=self.query_one("#mle", Checkbox).value,
            batch_size=_number(self.query_one("#batch-size", Input).value),
            bits=_number(self.query_one("#bits", Input).value) if kld else None)

    @on(Input.Changed)
    @on(Select.Changed)
    @on(Checkbox.Changed)
    def _preview(self) -> None:
        try:
            the_plan = quantize.plan(self.model, self.options(), self.pegasus)
        except QuantedError as exc:
            self.query_one("#quantize-command", Static).update(Text(exc.message, style="red"))
            return
        self.query_one("#quantize-command", Static).update(
            Text(f"$ {quoted(the_plan.command)}", style="bold"))

    def action_start(self) -> None:
        if self.running:
            return
        try:
            the_plan = quantize.plan(self.model, self.options(), self.pegasus)
        except QuantedError as exc:
            self.notify(exc.message, severity="error")
            return
        self.running = True
        self.token = Cancel()
        self.query_one(Stopwatch).start()
        self.query_one("#quantize-step", Static).update(Text("Quantizing…"))
        self.run_engine(the_plan, self.query_one(EngineLog).buffer.append)

    @work(thread=True, exclusive=True, exit_on_error=False, group="engine")
    def run_engine(self, the_plan: quantize.QuantizePlan, on_line: Callable[[str], None]) -> None:
        with closing(KeptLog(the_plan.quantize, "quantize", on_line)) as kept:
            result = quantize.run(the_plan, Events(line=kept), self.token)
        self.post_message(self.Finished(result))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group == "engine" and event.state == WorkerState.ERROR:
            self.running = False
            self.query_one(Stopwatch).stop()
            error = event.worker.error
            if isinstance(error, StepEnded) and isinstance(error.result,
                                                           quantize.QuantizeResult):
                self._show(error.result)  # failed or cancelled: the old file is back
                return
            text = error.message if isinstance(error, QuantedError) else str(error)
            self.query_one("#quantize-step", Static).update(Text(text, style="bold red"))

    @on(Finished)
    def _finished(self, message: Finished) -> None:
        self.running = False
        self.query_one(Stopwatch).stop()
        self._show(message.result)

    def _show(self, result: quantize.QuantizeResult) -> None:
        self.query_one(EngineLog).flush()
        if result.restored is None:
            self.dismiss(result.quantize)
            return
        text = "; ".join([result.restored, *result.hints])
        self.query_one("#quantize-step", Static).update(Text(text, style="bold red"))

    def action_cancel_or_close(self) -> None:
        if self.running:
            self.run_worker(self.token.cancel, thread=True, group="cancel")
            return
        self.dismiss(None)
