"""What every engine step's screen shares (hybrid run, verify, and the next ones): the open
document, one engine worker at a time, cancel (escape or ctrl+c while it runs, in a thread:
stopping the process group can wait a few seconds), close (escape or q after), a stopwatch
and the log.

A new step: subclass EngineScreen; say VERB and REWRITES_FILE; in a thread worker (group
"engine") plan from `self.doc` with the core (`quanted.core.engine.STEP.plan(doc, ...)`), run
the plan with `on_line=self.log_view.buffer.append`, post the result back as a message; fill in
stop_engine and engine_failed. The editor's flow (save first, then this screen, then reload
when REWRITES_FILE) is MainScreen.engine_step_flow; register the screen in engine_steps.py."""

from __future__ import annotations

from typing import ClassVar

from textual.actions import SkipAction
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from quanted.core.document import QuantizeDocument
from quanted.tui.keymap import ENGINE_SCREEN_KEYS
from quanted.tui.widgets.engine_log import EngineLog, Stopwatch

IDLE, RUNNING, DONE = "idle", "running", "done"


class EngineScreen(Screen[bool]):
    """Dismissed with True when the engine ran."""

    BINDINGS = [spec.binding() for spec in ENGINE_SCREEN_KEYS]
    VERB: ClassVar[str]  # what the save-first dialog asks for: "Save and VERB"
    REWRITES_FILE: ClassVar[bool] = False  # True: the editor reads the file again after a run

    def __init__(self, doc: QuantizeDocument, display_name: str) -> None:
        super().__init__()
        assert doc.path is not None, "an engine step runs on a file"
        self.doc = doc
        self.path = doc.path
        self.display_name = display_name
        self.state = IDLE
        self.ran = False
        self.cancelling = False

    @property
    def log_view(self) -> EngineLog:
        return self.query_one(EngineLog)

    @property
    def stopwatch(self) -> Stopwatch:
        return self.query_one(Stopwatch)

    # -- to implement -----------------------------------------------------------------

    def stop_engine(self) -> None:
        """Runs in a thread: stop the engine (blocks until the process group is gone)."""
        raise NotImplementedError

    def show_cancelling(self) -> None:
        """Say on screen that a cancel is under way."""

    # -- shared ------------------------------------------------------------------------

    def begin(self) -> None:
        self.state, self.cancelling = RUNNING, False
        self.stopwatch.start()

    def end(self) -> None:
        self.state = DONE
        self.stopwatch.stop()
        self.log_view.flush()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group in ("engine", "draft") and event.state in (
                WorkerState.ERROR, WorkerState.CANCELLED):
            if self.state == RUNNING:
                self.end()
            self.cancelling = False
            self.engine_failed(event.worker.error)

    def engine_failed(self, error: BaseException | None) -> None:
        raise NotImplementedError

    def action_cancel_or_close(self) -> None:
        if self.state == RUNNING:
            self.cancel()
        else:
            self.action_close()

    def action_interrupt(self) -> None:
        if self.state != RUNNING:
            raise SkipAction()  # ctrl+c copies in the command line
        self.cancel()

    def cancel(self) -> None:
        if self.cancelling:
            return
        self.cancelling = True
        self.show_cancelling()
        self.run_worker(self.stop_engine, thread=True, group="cancel", exit_on_error=False)

    def action_close(self) -> None:
        if self.state == RUNNING:
            self.notify("pegasus is running: esc cancels it first.", severity="warning")
            return
        self.dismiss(self.ran)
