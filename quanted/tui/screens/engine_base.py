"""What the hybrid-run and verify screens share: one engine worker at a time, cancel (escape or
ctrl+c while it runs, in a thread: stopping the process group can wait a few seconds), close
(escape or q after), a stopwatch and the log."""

from __future__ import annotations

from textual.actions import SkipAction
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from quanted.tui.keymap import ENGINE_SCREEN_KEYS
from quanted.tui.widgets.engine_log import EngineLog, Stopwatch

IDLE, RUNNING, DONE = "idle", "running", "done"


class EngineScreen(Screen[bool]):
    """Dismissed with True when the engine ran (the editor then reloads the file)."""

    BINDINGS = [spec.binding() for spec in ENGINE_SCREEN_KEYS]

    def __init__(self, path, display_name: str) -> None:
        super().__init__()
        self.path = path
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
