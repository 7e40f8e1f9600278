"""ctrl+r: rerun `pegasus quantize --hybrid` on the open file.

The command comes first, editable (enter runs it; a pasted `--rebuild` line becomes --hybrid),
with the check's problems under it; check errors refuse the run until ctrl+f (force). While the
engine runs its log streams (engine_log batches it) and escape/ctrl+c cancel it: the process
group is stopped in a thread and `hybrid.run` restores the file. After, the failures pegasus
only logged come first, then the restore message, the report, the comments put back.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.widgets import Button, Input, Label, Static

from quanted.core.document import QuantizeDocument
from quanted.core.engine import hybrid
from quanted.core.engine.command import REBUILD_FLAGS, quoted
from quanted.core.engine.process import EngineProcess
from quanted.core.errors import describe
from quanted.core.validate import ERROR, Problem
from quanted.tui.keymap import ENGINE_SCREEN_KEYS, RUN_KEYS
from quanted.tui.screens.engine_base import DONE, IDLE, RUNNING, EngineScreen
from quanted.tui.widgets.engine_log import EngineLog, Stopwatch
from quanted.tui.widgets.key_hints import KeyHints

HINT = ("edit it, or paste the line pegasus_quantize.sh printed (--rebuild becomes --hybrid); "
        "enter runs it in the file's folder")


class RunScreen(EngineScreen):
    # run.start is the command line's own enter (Input.Submitted): listed, not bound, so enter
    # in the log after a run does not start another.
    BINDINGS = [spec.binding() for spec in RUN_KEYS if spec.id != "run.start"]
    AUTO_FOCUS = "#command"
    VERB = "run pegasus --hybrid"
    REWRITES_FILE = True

    class Drafted(Message):
        def __init__(self, draft: hybrid.Draft) -> None:
            super().__init__()
            self.draft = draft

    class Finished(Message):
        def __init__(self, result: hybrid.HybridResult) -> None:
            super().__init__()
            self.result = result

    def __init__(self, doc: QuantizeDocument, display_name: str) -> None:
        super().__init__(doc, display_name)
        self.plan: hybrid.HybridPlan | None = None
        self.result: hybrid.HybridResult | None = None
        self.process: EngineProcess | None = None
        self.stop_requested = threading.Event()

    def compose(self) -> ComposeResult:
        yield Label(f"Hybrid rerun · {self.display_name}", id="run-title", classes="engine-title")
        yield Label(f"Command: {HINT}", classes="engine-hint")
        yield Input(id="command", placeholder="pegasus quantize ... --hybrid ...")
        yield Static("Reading the file…", id="problems", markup=False)
        with Horizontal(id="refusal"):
            yield Button("Run anyway (force) ^f", id="force", variant="warning")
        with Horizontal(classes="engine-status"):
            yield Static("", id="run-state", markup=False)
            yield Stopwatch(id="elapsed")
        yield EngineLog(id="log")
        with VerticalScroll(id="result-box"):
            yield Static("", id="result", markup=False)
        yield KeyHints(specs=(*RUN_KEYS, *ENGINE_SCREEN_KEYS), id="keys")

    def on_mount(self) -> None:
        self.query_one("#refusal").display = False
        self.query_one("#result-box").display = False
        self.log_view.border_title = "pegasus log"
        self.make_draft()

    # -- workers -------------------------------------------------------------------------

    @work(thread=True, exclusive=True, exit_on_error=False, group="draft")
    def make_draft(self) -> None:
        self.post_message(self.Drafted(hybrid.draft(self.doc)))

    @work(thread=True, exclusive=True, exit_on_error=False, group="engine")
    def run_engine(self, text: str, force: bool, on_line: Callable[[str], None]) -> None:
        the_plan = hybrid.plan(self.doc, text)
        # Shown before the engine starts: its command heads the log, above its first line.
        if not self.app.call_from_thread(self._planned, the_plan, force):
            return
        result = hybrid.run(the_plan, on_line, force=force, process_ready=self._process_ready)
        self.post_message(self.Finished(result))

    def _process_ready(self, process: EngineProcess) -> None:
        """In the worker thread: keep the process for cancel; cancel at once if asked already."""
        self.process = process
        if self.stop_requested.is_set():
            process.cancel()

    def stop_engine(self) -> None:
        self.stop_requested.set()
        if self.process is not None:
            self.process.cancel()

    # -- messages ------------------------------------------------------------------------

    @on(Drafted)
    def _drafted(self, message: Drafted) -> None:
        draft = message.draft
        command = self.query_one("#command", Input)
        if not command.value:
            command.value = draft.text
            command.cursor_position = len(draft.text)
        self._show_problems(draft.problems, draft.message)
        self._set_state("Ready: enter runs the command." if draft.message is None
                        else "Not ready: see above.")

    def _planned(self, plan: hybrid.HybridPlan, force: bool) -> bool:
        """Show the plan; False when the check's errors refuse it (not forced)."""
        self.plan = plan
        command = self.query_one("#command", Input)
        shown = quoted(plan.command)
        if any(word in REBUILD_FLAGS for word in command.value.split()):
            command.value = shown  # the --rebuild line becomes the --hybrid command it runs
        refused = bool(plan.errors) and not force
        self._show_problems(plan.problems, None, refused=refused)
        if refused:
            self.end()
            self.state = IDLE
            self._set_state("Refused: the check found errors. ^f runs it anyway.")
            return False
        self.ran = True
        self.log_view.note(f"$ {shown}")
        return True

    @on(Finished)
    def _finished(self, message: Finished) -> None:
        self.end()
        self.result = result = message.result
        if result.cancelled:
            self._set_state("Cancelled; the file was restored.", "error")
        elif result.restored:
            self._set_state("Failed; the file was restored.", "error")
        elif result.failures:
            self._set_state(f"Finished, but {len(result.failures)} layer edit(s) were NOT "
                            "applied (pegasus exits 0 anyway).", "warning")
        else:
            self._set_state("Finished. esc/q close and reload the file in the editor.", "success")
        box = self.query_one("#result-box")
        box.display = True
        self.query_one("#result", Static).update(result_text(result))
        self.log_view.focus()

    def engine_failed(self, error: BaseException | None) -> None:
        self.state = IDLE if self.result is None else DONE
        self.query_one("#problems", Static).update(Text(describe(error), style="bold red"))
        self._set_state("Not run: see above. Edit the command line and press enter.", "error")
        self.query_one("#command").focus()

    # -- actions -------------------------------------------------------------------------

    @on(Input.Submitted, "#command")
    def _submitted(self) -> None:
        self.start(force=False)

    def action_force(self) -> None:
        self.start(force=True)

    @on(Button.Pressed, "#force")
    def _force_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.start(force=True)

    def start(self, force: bool) -> None:
        if self.state == RUNNING:
            self.notify("pegasus is running already.", severity="warning")
            return
        self.stop_requested.clear()
        self.process, self.result = None, None
        self.query_one("#refusal").display = False
        self.query_one("#result-box").display = False
        self.begin()
        self._set_state("Running… esc or ctrl+c cancels (the file is restored).")
        self.run_engine(self.query_one("#command", Input).value, force, self.log_view.buffer.append)

    def show_cancelling(self) -> None:
        self._set_state("Cancelling… stopping pegasus, then restoring the file.", "warning")

    # -- text ----------------------------------------------------------------------------

    def _set_state(self, text: str, style: str = "") -> None:
        self.query_one("#run-state", Static).update(Text(text, style=_STYLES.get(style, "")))

    def _show_problems(self, problems: list[Problem], message: str | None,
                       refused: bool = False) -> None:
        text = Text()
        if message:
            text.append(message + "\n", style="bold red")
        if refused:
            text.append("Not run: the check found errors; pegasus would skip these edits and "
                        "still exit 0.\n", style="bold red")
        for problem in problems:
            style = "red" if problem.severity == ERROR else "yellow"
            text.append(problem.format(self.display_name) + "\n", style=style)
        if not message and not problems:
            text.append("check: no problems.", style="green")
        text.rstrip()
        self.query_one("#problems", Static).update(text)
        self.query_one("#refusal").display = refused


_STYLES = {"error": "bold red", "warning": "bold yellow", "success": "bold green"}


def result_text(result: hybrid.HybridResult) -> Text:
    """Failures first (each with its layer), then the restore, the report, the comments."""
    text = Text()
    if result.failures:
        text.append(f"{len(result.failures)} edit(s) NOT applied — pegasus exited "
                    f"{result.engine_status} anyway:\n", style="bold red")
        for failure in result.failures:
            text.append(f"  {failure.layer or '(no layer named)'}", style="bold red")
            if failure.qtype:
                text.append(f"  {failure.qtype}", style="red")
            text.append(f"\n      {failure.message}\n", style="red")
        text.append("\n")
    if result.restored:
        text.append(f"{result.restored}\n\n", style="bold yellow")
    if result.report is not None:
        text.append("What changed\n", style="bold underline")
        for line in result.report.lines():
            style = "dim" if line.endswith("(unchanged)") else ""
            text.append(line + "\n", style=style)
    if result.comments_carried:
        text.append(f"\nPut back {result.comments_carried} comment(s) pegasus dropped.\n",
                    style="green")
    if result.report is not None or result.restored:
        text.append("\nesc/q: close; the editor reloads the file and entropy.txt.", style="dim")
    return text
