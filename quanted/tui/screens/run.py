"""ctrl+r: rerun `pegasus quantize --hybrid` on the open file, or (ctrl+b) rebuild it.

The command comes first, editable (enter runs it; a pasted `--rebuild` line becomes --hybrid),
with the check's problems under it; check errors refuse the run until ctrl+f (force). While the
engine runs its log streams (engine_log batches it) and escape/ctrl+c cancel it: the process
group is stopped in a thread and `hybrid.run` restores the file. After, the failures pegasus
only logged come first, then the restore message, the report, the comments put back.

ctrl+b switches the same command line to `--rebuild` (the zero-config line becomes the one
`quanted quantize` would run for this file) and back; a rebuild runs through
`quantize.run`: the old file goes to the history, the user's customized entries and their
comments are carried over onto the fresh file, a failed run puts the old file back.
"""

from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.widgets import Button, Label, Static

from quanted.core.document.model import QuantizeDocument
from quanted.core.engine import hybrid, quantize
from quanted.core.engine.command import REBUILD_FLAGS, quoted
from quanted.core.engine.step import StepEnded
from quanted.core.errors import QuantedError, describe
from quanted.core.format.validate import ERROR, Problem
from quanted.tui.keymap import ENGINE_SCREEN_KEYS, RUN_KEYS
from quanted.tui.screens.engine_base import DONE, IDLE, RUNNING, EngineScreen
from quanted.tui.widgets.command_line import CommandLine
from quanted.tui.screens.run_text import rebuild_text, result_text, switched
from quanted.tui.widgets.engine_log import EngineLog, status_row
from quanted.tui.widgets.key_hints import KeyHints

HINT = ("edit it, or paste the line pegasus_quantize.sh printed (--rebuild becomes --hybrid); "
        "enter runs it in the file's folder; ^b rebuilds instead")
REBUILD_HINT = ("--rebuild writes a fresh file; your customized entries and their comments are "
                "carried over, the old file is kept in the history; ^b back to --hybrid")


class RunScreen(EngineScreen):
    # run.start is the command line's own enter (CommandLine.Submitted): listed, not bound, so enter
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

    class RebuildDrafted(Message):
        def __init__(self, text: str | None, message: str | None) -> None:
            super().__init__()
            self.text, self.message = text, message

    class Rebuilt(Message):
        def __init__(self, result: quantize.QuantizeResult) -> None:
            super().__init__()
            self.result = result

    def __init__(self, doc: QuantizeDocument, display_name: str) -> None:
        super().__init__(doc, display_name)
        self.plan: hybrid.HybridPlan | quantize.QuantizePlan | None = None
        self.result: hybrid.HybridResult | quantize.QuantizeResult | None = None
        self.rebuild = False  # ctrl+b: the command line is a --rebuild
        self.zero_config: dict[bool, str] = {}  # rebuild? -> the command line quanted drafted

    def compose(self) -> ComposeResult:
        yield Label(f"Hybrid rerun · {self.display_name}", id="run-title", classes="engine-title")
        yield Label(f"Command: {HINT}", id="run-hint", classes="engine-hint")
        yield CommandLine(id="command", placeholder="pegasus quantize ... --hybrid ...")
        yield Static("Reading the file…", id="problems", markup=False)
        with Horizontal(id="refusal"):
            yield Button("Run anyway (force) ^f", id="force", variant="warning")
        yield from status_row("run-state")
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
    def run_engine(self, text: str, force: bool) -> None:
        the_plan = hybrid.plan(self.doc, text)
        # Shown before the engine starts: its command heads the log, above its first line.
        if not self.app.call_from_thread(self._planned, the_plan, force):
            return
        with self.events("hybrid") as events:
            result = hybrid.run(the_plan, events, self.token, force=force)
        self.post_message(self.Finished(result))

    @work(thread=True, exclusive=True, exit_on_error=False, group="rebuild-draft")
    def draft_rebuild(self) -> None:
        try:
            text = quoted(quantize.rebuild_plan(self.doc).command)
        except QuantedError as exc:
            self.post_message(self.RebuildDrafted(None, exc.message))
            return
        self.post_message(self.RebuildDrafted(text, None))

    @work(thread=True, exclusive=True, exit_on_error=False, group="engine")
    def run_rebuild(self, text: str) -> None:
        the_plan = quantize.rebuild_plan(self.doc, from_command=text)
        self.app.call_from_thread(self._rebuild_planned, the_plan)
        with self.events("rebuild") as events:
            result = quantize.run(the_plan, events, self.token)
        self.post_message(self.Rebuilt(result))

    # -- messages ------------------------------------------------------------------------

    @on(Drafted)
    def _drafted(self, message: Drafted) -> None:
        draft = message.draft
        command = self.query_one("#command", CommandLine)
        if draft.text:
            self.zero_config[False] = draft.text
        if not command.value:
            command.value = draft.text  # the cursor at its end, the whole command in view
        self._show_problems(draft.problems, draft.message)
        self._set_state("Ready: enter runs the command." if draft.message is None
                        else "Not ready: see above.")

    def _planned(self, plan: hybrid.HybridPlan, force: bool) -> bool:
        """Show the plan; False when the check's errors refuse it (not forced)."""
        self.plan = plan
        command = self.query_one("#command", CommandLine)
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

    @on(RebuildDrafted)
    def _rebuild_drafted(self, message: RebuildDrafted) -> None:
        command = self.query_one("#command", CommandLine)
        if not self.rebuild or command.value != self.zero_config.get(False):
            return  # switched back, or edited, meanwhile
        if message.text is None:
            self.notify(f"{message.message}; --hybrid turned into --rebuild as written.",
                        severity="warning")
            self._set_command(switched(command.value, rebuild=True))
            return
        self.zero_config[True] = message.text
        self._set_command(message.text)

    def _rebuild_planned(self, plan: quantize.QuantizePlan) -> None:
        self.plan = plan
        self._show_problems([], None)
        self.ran = True
        self.log_view.note(f"$ {quoted(plan.command)}")

    @on(Rebuilt)
    def _rebuilt(self, message: Rebuilt) -> None:
        self.end()
        self._show_rebuild(message.result)

    def _show_rebuild(self, result: quantize.QuantizeResult) -> None:
        """A rebuild that ran: done, or failed or cancelled (its StepEnded carries it)."""
        self.result = result
        if result.cancelled:
            self._set_state("Cancelled; the old file was put back.", "error")
        elif result.restored:
            self._set_state("Failed; the old file was put back.", "error")
        else:
            self._set_state("Rebuilt. esc/q close and reload the file in the editor.", "success")
        self.query_one("#result-box").display = True
        self.query_one("#result", Static).update(rebuild_text(result))
        self.log_view.focus()

    @on(Finished)
    def _finished(self, message: Finished) -> None:
        self.end()
        self._show_hybrid(message.result)

    def _show_hybrid(self, result: hybrid.HybridResult) -> None:
        """A hybrid run that ran: done, or failed or cancelled (its StepEnded carries it)."""
        self.result = result
        if result.cancelled:
            self._set_state("Cancelled; the file was restored.", "error")
        elif result.restored:
            self._set_state("Failed; the file was restored.", "error")
        elif result.failures:
            self._set_state(f"Finished, but {len(result.failures)} layer edit(s) were NOT "
                            "applied (pegasus exits 0 anyway).", "warning")
        else:
            self._set_state("Finished. esc closes and reloads the file in the editor; "
                            "enter runs again.", "success")
        box = self.query_one("#result-box")
        box.display = True
        self.query_one("#result", Static).update(result_text(result))
        # The command line again: enter runs it once more (the footer says so), esc closes.
        self.query_one("#command").focus()

    def engine_failed(self, error: BaseException | None) -> None:
        if isinstance(error, StepEnded) and isinstance(error.result, hybrid.HybridResult):
            self._show_hybrid(error.result)
            return
        if isinstance(error, StepEnded) and isinstance(error.result, quantize.QuantizeResult):
            self._show_rebuild(error.result)
            return
        self.state = IDLE if self.result is None else DONE
        self.query_one("#problems", Static).update(Text(describe(error), style="bold red"))
        self._set_state("Not run: see above. Edit the command line and press enter.", "error")
        self.query_one("#command").focus()

    # -- actions -------------------------------------------------------------------------

    @on(CommandLine.Submitted, "#command")
    def _submitted(self) -> None:
        self.start(force=False)

    def action_force(self) -> None:
        self.start(force=True)

    @on(Button.Pressed, "#force")
    def _force_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.start(force=True)

    def action_toggle_rebuild(self) -> None:
        if self.state == RUNNING:
            self.notify("pegasus is running: the command cannot change now.", severity="warning")
            return
        line = self.query_one("#command", CommandLine).value
        drafted = self.zero_config.get(self.rebuild)
        self.rebuild = not self.rebuild
        title = "Rebuild" if self.rebuild else "Hybrid rerun"
        self.query_one("#run-title", Label).update(f"{title} · {self.display_name}")
        hint = REBUILD_HINT if self.rebuild else HINT
        self.query_one("#run-hint", Label).update(f"Command: {hint}")
        if line and line == drafted:  # the zero-config line: the other mode's own
            if self.rebuild and True not in self.zero_config:
                self.draft_rebuild()  # opens the file and finds pegasus: not in the UI thread
            else:
                self._set_command(self.zero_config[self.rebuild])
        else:
            self._set_command(switched(line, self.rebuild))

    def _set_command(self, text: str) -> None:
        command = self.query_one("#command", CommandLine)
        command.value = text  # the cursor at its end

    def start(self, force: bool) -> None:
        if self.state == RUNNING:
            self.notify("pegasus is running already.", severity="warning")
            return
        self.result = None
        self.query_one("#refusal").display = False
        self.query_one("#result-box").display = False
        self.begin()
        self._set_state("Running… esc or ctrl+c cancels (the file is restored).")
        text = self.query_one("#command", CommandLine).value
        if self.rebuild:
            self.run_rebuild(text)
        else:
            self.run_engine(text, force)

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

