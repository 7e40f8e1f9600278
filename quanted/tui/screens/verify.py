"""v: float vs quantized (vs the plain file from before the first hybrid run) by real inference.

The 2-3 `pegasus inference` runs go in one worker (progress: "[2/3] quantized"); the log is the
second tab (l). The input count defaults to every input of the dataset (as the hybrid run
calibrates on); `i` edits it and enter (or r) runs again on that many. Beside it, the user's
task check (`quanted verify --check CMD`; remembered for the session, shared with tune):
enter there runs again with it, and its verdict and metric come under the figures. After:
per output tensor and iteration, float's top-5 beside each quantized top-5 (classes that moved
are yellow, classes not in float's top-5 red), the figures, what each quantized run measured
(as `quanted verify` says it), and the history of attempts with the best one on as many inputs
starred (figures over other inputs do not compare) and this one marked. Errors stay on screen.
"""

from __future__ import annotations

from pathlib import Path

from rich import box
from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.validation import Number
from textual.widgets import (DataTable, Input, Label, ProgressBar, Static, TabbedContent,
                             TabPane)

from quanted.core.document.model import QuantizeDocument
from quanted.core.engine import verify
from quanted.core.engine.attempts import VerifyAttempt, best, top1_text, verify_history
from quanted.core.engine.command import dataset_size, model_files, quoted
from quanted.core.engine.output_figures import CLASS
from quanted.core.engine.outputs import Comparison, VerifySummary
from quanted.core.engine.taskcheck import TaskCheck
from quanted.core.errors import QuantedError
from quanted.tui.keymap import ENGINE_SCREEN_KEYS, VERIFY_KEYS
from quanted.tui.screens.engine_base import RUNNING, EngineScreen
from quanted.tui.widgets.engine_log import EngineLog, status_row
from quanted.tui.widgets.output_table import outputs_table as _outputs_table
from quanted.tui.widgets.key_hints import KeyHints

HISTORY_COLUMNS = (("mark", ""), ("when", "when"), ("customized", "customized"),
                   ("cosine", "mean cosine"), ("top1", "top-1"), ("iterations", "iterations"),
                   ("plain", "plain cosine"))


class VerifyScreen(EngineScreen):
    BINDINGS = [spec.binding() for spec in VERIFY_KEYS]
    AUTO_FOCUS = "#verify-body"
    VERB = "verify"
    STEP = "#verify-step"

    class Planned(Message):
        def __init__(self, plan: verify.VerifyPlan, attempts: list[VerifyAttempt]) -> None:
            super().__init__()
            self.plan = plan
            self.attempts = attempts

    class Progress(Message):
        def __init__(self, index: int, total: int, title: str) -> None:
            super().__init__()
            self.index, self.total, self.title = index, total, title

    class Finished(Message):
        def __init__(self, result: verify.VerifyResult, attempts: list[VerifyAttempt]) -> None:
            super().__init__()
            self.result = result
            self.attempts = attempts

    def __init__(self, doc: QuantizeDocument, display_name: str) -> None:
        super().__init__(doc, display_name)
        self.result: verify.VerifyResult | None = None
        self.plan: verify.VerifyPlan | None = None
        self.dataset = _dataset_count(self.path)
        self.iterations = self.dataset or 1  # of the run shown (or under way)

    def compose(self) -> ComposeResult:
        yield Label(f"Verify · {self.display_name}: float vs quantized (pegasus inference)",
                    id="verify-title", classes="engine-title")
        yield from status_row("verify-step", "Planning…", bar="verify-bar")
        with Horizontal(id="verify-form"):
            yield Label("inputs", classes="engine-hint")
            yield Input(str(self.iterations), id="verify-inputs", type="integer",
                        validators=[Number(minimum=1)], valid_empty=False)
            yield Static(self._inputs_hint(), id="verify-inputs-hint", markup=False)
        with Horizontal(id="verify-check-form"):
            yield Label("check", classes="engine-hint")
            yield Input(self.task_check, id="verify-check",
                        placeholder="your task check, CMD FLOAT_DIR QUANT_DIR (optional); "
                        "enter runs with it")
        with TabbedContent(initial="result-tab", id="verify-tabs"):
            with TabPane("Result", id="result-tab"):
                with VerticalScroll(id="verify-body"):
                    yield Static("", id="verify-notes", markup=False)
                    yield Static("", id="verify-result")
                    yield Label("", id="history-title", classes="engine-hint")
                    yield DataTable(id="history", cursor_type="row", zebra_stripes=True)
            with TabPane("Log", id="log-tab"):
                yield EngineLog(id="log")
        yield KeyHints(specs=(*VERIFY_KEYS, *ENGINE_SCREEN_KEYS), id="keys")

    def on_mount(self) -> None:
        table = self.query_one("#history", DataTable)
        for key, label in HISTORY_COLUMNS:
            table.add_column(label, key=key)
        self._start(self.iterations)

    def _start(self, iterations: int) -> None:
        self.iterations, self.result = iterations, None
        self.begin()
        self.say_step("Planning…")
        self.query_one("#history-title", Label).update(
            f"History of attempts (★ best of those on {iterations} input"
            f"{'' if iterations == 1 else 's'}: highest mean cosine; ← this run)")
        self.run_engine(iterations, self.task_check)

    # -- the worker ----------------------------------------------------------------------

    @work(thread=True, exclusive=True, exit_on_error=False, group="engine")
    def run_engine(self, iterations: int, check: str) -> None:
        the_plan = verify.plan(self.doc, iterations=iterations,
                               check=TaskCheck.parse(check) if check else None)
        self.post_message(self.Planned(the_plan, verify_history(self.path)))

        def progress(p: verify.VerifyProgress) -> None:
            self.note(f"\x1b[1m$ {quoted(p.run.command)}\x1b[0m")
            self.post_message(self.Progress(p.index, p.total, p.run.title))

        with self.events("verify", progress) as events:
            result = verify.run(the_plan, events, self.token)
        self.post_message(self.Finished(result, verify_history(self.path)))

    # -- messages ------------------------------------------------------------------------

    @on(Planned)
    def _planned(self, message: Planned) -> None:
        self.ran = True
        self.plan = message.plan
        notes = "\n".join(f"note: {note}" for note in message.plan.notes)
        self.query_one("#verify-notes", Static).update(Text(notes, style="yellow"))
        self.query_one("#verify-bar", ProgressBar).update(total=len(message.plan.runs), progress=0)
        self._history(message.attempts, None, message.plan.iterations)
        self.query_one("#verify-result", Static).update(
            Text("Running the inferences… (l shows the log; esc or ctrl+c cancels)", style="dim"))

    @on(Progress)
    def _progress(self, message: Progress) -> None:
        self.say_step(f"[{message.index}/{message.total}] {message.title}")
        self.query_one("#verify-bar", ProgressBar).update(total=message.total,
                                                          progress=message.index - 1)

    @on(Finished)
    def _finished(self, message: Finished) -> None:
        self.end()
        self.result = message.result
        total = len(message.result.runs)
        self.query_one("#verify-bar", ProgressBar).update(total=total, progress=total)
        self.say_step(f"Done: {total} inference runs.", "bold green")
        self.query_one("#verify-result", Static).update(
            result_view(message.result, configuration_lines(message.result, self.plan)))
        self._history(message.attempts, message.result.time, message.result.iterations)
        self.query_one(TabbedContent).active = "result-tab"

    def engine_failed(self, error: BaseException | None) -> None:
        self.query_one("#verify-result", Static).update(
            self.failure(error, named="{}", kept="Nothing was recorded."))
        self.query_one(TabbedContent).active = "result-tab"

    # -- actions and text ----------------------------------------------------------------

    def action_edit_inputs(self) -> None:
        self.query_one(TabbedContent).active = "result-tab"
        self.query_one("#verify-inputs", Input).focus()

    @on(Input.Submitted, "#verify-check")
    def _check_submitted(self) -> None:
        self.action_rerun()

    @on(Input.Submitted, "#verify-inputs")
    def action_rerun(self) -> None:
        if self.state == RUNNING:
            self.notify("verify is running: esc cancels it first.", severity="warning")
            return
        field = self.query_one("#verify-inputs", Input)
        count = int(field.value) if field.value.isdigit() else 0
        if count < 1:
            self.notify("inputs: a whole number, 1 or more.", severity="error")
            field.focus()
            return
        check = self.query_one("#verify-check", Input).value.strip()
        try:
            TaskCheck.parse(check) if check else None
        except QuantedError as exc:
            self.notify(f"check: {exc.message}", severity="error")
            self.query_one("#verify-check", Input).focus()
            return
        self.task_check = check  # the tune screen offers it too
        self.query_one("#verify-body").focus()
        self._start(count)

    def _inputs_hint(self) -> str:
        of = (f"of {self.dataset} in the dataset" if self.dataset
              else "(the dataset's size is unknown)")
        return f"{of} · i edits, enter reruns"

    def action_toggle_log(self) -> None:
        tabs = self.query_one(TabbedContent)
        tabs.active = "log-tab" if tabs.active == "result-tab" else "result-tab"

    def _history(self, attempts: list[VerifyAttempt], current: str | None,
                 iterations: int) -> None:
        """Every attempt; the star and the plain rows only for those on `iterations` inputs."""
        table = self.query_one("#history", DataTable)
        table.clear()
        top = best(attempts, iterations)
        for attempt in attempts:
            is_best, is_current = attempt is top, attempt.time == current
            style = ("bold green" if is_best else "bold" if is_current
                     else "" if attempt.iterations == iterations else "dim")
            mark = ("★ " if is_best else "  ") + ("←" if is_current else " ")
            cos = "-" if attempt.mean_cosine is None else f"{attempt.mean_cosine:.6f}"
            plain = attempt.plain_summary or {}
            plain_cos = plain.get("mean_cosine")
            cells = [mark, attempt.when, str(len(attempt.customized)), cos,
                     top1_text(attempt.summary),
                     str(attempt.iterations),
                     f"{plain_cos:.6f}" if isinstance(plain_cos, (int, float)) else "-"]
            table.add_row(*(Text(cell, style=style) for cell in cells), key=attempt.time)
        if current is not None and current in {a.time for a in attempts}:
            table.move_cursor(row=table.get_row_index(current))


def _dataset_count(quantize: Path) -> int | None:
    """How many inputs the calibration dataset lists; None when it cannot be read."""
    try:
        return dataset_size(model_files(quantize).inputmeta)
    except QuantedError:
        return None


def _cell(entry: tuple[int, float] | None, reference: list[tuple[int, float]], rank: int) -> Text:
    if entry is None:
        return Text("")
    text = f"{entry[0]}: {entry[1]:.6f}"
    classes = [k for k, _ in reference]
    if entry[0] not in classes:
        return Text(text, style="bold red")
    if rank >= len(reference) or reference[rank][0] != entry[0]:
        return Text(text, style="yellow")
    return Text(text)


def configuration_lines(result: verify.VerifyResult, plan: verify.VerifyPlan | None
                        ) -> list[str]:
    """What each quantized run measured, as `quanted verify` prints it under its table."""
    lines = [f"quantized: {result.configuration}"] if result.configuration else []
    if plan is not None and plan.plain_base is not None:
        lines.append(f"plain quantized: the {plan.plain_base.describe()}")
    return lines


def check_view(result: verify.VerifyResult) -> list[Text]:
    """The task check's verdict (and metric) per quantized run, as `quanted verify` says it."""
    if result.check is None:
        return []
    parts = [Text(f"check {result.check}:", style="bold")]
    for name, label in (("quantized", verify.QUANTIZED), ("plain quantized", verify.PLAIN)):
        verdict = result.checks.get(label)
        if verdict is not None:
            parts.append(Text(f"  {name}: {verdict.text()}",
                              style="green" if verdict.acceptable else "bold red"))
    return parts


def result_view(result: verify.VerifyResult, configuration: list[str] | None = None) -> Group:
    """The summary of each run and the per-output figures first (at 80x24 they sat below four
    per-input tables), then per output and iteration a table of the top-5 side by side.
    `configuration`: what each quantized run measured (configuration_lines)."""
    columns: list[tuple[str, dict[str, list[Comparison]]]] = [("quantized", result.quantized)]
    if result.plain is not None:
        columns.append(("plain quantized", result.plain))
    parts: list = []
    for name, run_figures in columns:
        summary = VerifySummary.of(run_figures, result.classes)
        if summary.count:
            parts.append(Text(summary.line(name), style="bold"))
    parts += [Text(line) for line in configuration or []]
    parts += check_view(result)
    parts.append(Text(""))
    for name, per_output in (("quantized", result.outputs),
                             ("plain quantized", result.plain_outputs)):
        if per_output:
            parts += [_outputs_table(name, per_output), Text("")]
    for tensor in result.tensors:
        if result.kinds.get(tensor, CLASS) != CLASS:
            parts += [_values_table(tensor, columns), Text("")]
            continue
        for i, float_top in enumerate(result.float_top5[tensor]):
            table = Table(title=f"{tensor}  iteration {i}", title_justify="left",
                          title_style="bold", expand=False, box=box.SIMPLE_HEAD)
            table.add_column("", style="dim")
            table.add_column("float32 (class: probability)")
            for name, _ in columns:
                table.add_column(name)
            tops = [figures[tensor][i].top5 for _, figures in columns]
            for rank in range(max(len(float_top), *(len(t) for t in tops))):
                table.add_row(f"#{rank + 1}",
                              Text(_cell(float_top[rank], float_top, rank).plain)
                              if rank < len(float_top) else Text(""),
                              *(_cell(t[rank] if rank < len(t) else None, float_top, rank)
                                for t in tops))
            table.add_section()
            figures = [f[tensor][i] for _, f in columns]
            n = len(float_top)
            table.add_row("cosine", "", *(f"{f.cosine:.6f}" for f in figures))
            table.add_row("max abs error", "", *(f"{f.max_abs_error:.6f}" for f in figures))
            table.add_row("top-1", "", *(Text("same", style="green") if f.top1
                                         else Text("DIFFERENT", style="bold red")
                                         for f in figures))
            table.add_row("top-5 overlap", "",
                          *(f"{round(f.top5_overlap * n)}/{n}" for f in figures))
            parts += [table, Text("")]
    parts.append(Text("yellow: a float top-5 class at another rank; red: not in float's top-5",
                      style="dim"))
    return Group(*parts)


def _values_table(tensor: str, columns: list[tuple[str, dict[str, list[Comparison]]]]) -> Table:
    """A values output (boxes, maps, logits): cosine and max abs error per input, no top-5."""
    table = Table(title=f"{tensor}  (values: no top-5)", title_justify="left",
                  title_style="bold", expand=False, box=box.SIMPLE_HEAD)
    table.add_column("input", style="dim")
    for name, _ in columns:
        table.add_column(f"{name} cosine")
        table.add_column("max abs error")
    for i in range(len(columns[0][1][tensor])):
        cells = []
        for _, figures in columns:
            f = figures[tensor][i]
            cells += [f"{f.cosine:.6f}", f"{f.max_abs_error:.6f}"]
        table.add_row(str(i), *cells)
    return table
