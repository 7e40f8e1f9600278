"""What every engine step's screen shares (hybrid run, verify, and the next ones): the open
document, one engine worker at a time, its Cancel token (escape or ctrl+c while it runs
cancel it in a thread: stopping the process group can wait a few seconds), close (escape or
q after), a stopwatch and the log.

A new step (the core's contract: core/engine/step.py): subclass EngineScreen; say VERB and
REWRITES_FILE; `begin()`, then in a thread worker (group "engine"):

    the_plan = STEP.plan(self.doc, ...)                 # post it back if the screen shows it
    with self.events("STEP", progress=...) as events:   # the log view, kept in .quanted/logs/
        result = STEP.run(the_plan, events, self.token)
    self.post_message(self.Finished(result))

and fill in engine_failed(error), which gets whatever the worker raised: a StepCancelled or
StepFailed (`failure()` says it; `error.result` is the step's result when it has one, shown
like a finished one) or a QuantedError that kept the step from running. The editor's flow
(save first, then this screen, then reload when REWRITES_FILE) is
MainScreen.engine_step_flow; register the screen in engine_steps.py."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any, ClassVar, TypeVar, overload

from rich.text import Text
from textual.actions import SkipAction
from textual.screen import Screen
from textual.widgets import Static
from textual.worker import Worker, WorkerState

from quanted.core.document.model import QuantizeDocument
from quanted.core.engine.command import quoted
from quanted.core.engine.logscan import strip_ansi
from quanted.core.engine.noise import KeptLog
from quanted.core.engine.step import Cancel, Events, StepCancelled, StepFailed
from quanted.core.errors import QuantedError
from quanted.tui.keymap import ENGINE_SCREEN_KEYS
from quanted.tui.widgets.engine_log import EngineLog, Stopwatch

IDLE, RUNNING, DONE = "idle", "running", "done"
P = TypeVar("P")


def _ignore(value: object) -> None:
    return None


def error_text(error: BaseException | None) -> Text:
    """Why a step could not run, in red."""
    return Text(error.message if isinstance(error, QuantedError)
                else f"{type(error).__name__}: {error}", style="bold red")


class EngineScreen(Screen[bool]):
    """Dismissed with True when the engine ran."""

    BINDINGS = [spec.binding() for spec in ENGINE_SCREEN_KEYS]
    VERB: ClassVar[str]  # what the save-first dialog asks for: "Save and VERB"
    REWRITES_FILE: ClassVar[bool] = False  # True: the editor reads the file again after a run
    STEP: ClassVar[str] = ""  # the Static saying what the step does now ("#verify-step")

    def __init__(self, doc: QuantizeDocument, display_name: str) -> None:
        super().__init__()
        assert doc.path is not None, "an engine step runs on a file"
        self.doc = doc
        self.path = doc.path
        self.display_name = display_name
        self.state = IDLE
        self.ran = False
        self.cancelling = False
        self.token = Cancel()  # the run's; a new one for each run (begin)
        self._on_line: Callable[[str], None] = _ignore
        # The step the editor offers next, after this one edited the open document as one
        # undoable step (tune's apply: then the hybrid run).
        self.then: str | None = None

    @property
    def log_view(self) -> EngineLog:
        return self.query_one(EngineLog)

    @property
    def stopwatch(self) -> Stopwatch:
        return self.query_one(Stopwatch)

    @property
    def task_check(self) -> str:
        """The user's task check command (`--check CMD`) verify and tune last ran: the app
        keeps it for the session."""
        return str(getattr(self.app, "task_check", ""))

    @task_check.setter
    def task_check(self, command: str) -> None:
        setattr(self.app, "task_check", command)  # noqa: B010 (QuantedApp's, not imported)

    # -- to implement -----------------------------------------------------------------

    def stop_engine(self) -> None:
        """Runs in a thread: stop the engine (blocks until the process group is gone)."""
        self.token.cancel()

    def show_cancelling(self) -> None:
        """Say on screen that a cancel is under way (a screen without STEP says it its way)."""
        self.say_step("Cancelling…", "bold yellow")

    # -- shared ------------------------------------------------------------------------

    def begin(self) -> None:
        """A run starts: a fresh Cancel token, the log view's writer for the worker."""
        self.state, self.cancelling = RUNNING, False
        self.token = Cancel()
        self._on_line = self.log_view.buffer.append
        self.stopwatch.start()

    @overload
    def events(self, kind: str) -> AbstractContextManager[Events[None]]: ...

    @overload
    def events(self, kind: str, progress: Callable[[P], None]
               ) -> AbstractContextManager[Events[P]]: ...

    def events(self, kind: str, progress: Callable[[Any], None] = _ignore
               ) -> AbstractContextManager[Events[Any]]:
        """In the worker: the run's Events, its log lines shown (TensorFlow's start-up lines
        left out) and kept in .quanted/logs/ as `kind`, `progress` its progress values."""
        return self._events(kind, progress)

    @contextmanager
    def _events(self, kind: str, progress: Callable[[Any], None]) -> Iterator[Events[Any]]:
        log = KeptLog(self.path, kind, self._on_line)
        try:
            yield Events(line=log, progress=progress)
        finally:
            log.close()

    def note(self, line: str) -> None:
        """In the worker: a line of quanted's own at the head of the log (the command)."""
        self._on_line(line)

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

    def say_step(self, text: str, style: str = "") -> None:
        self.query_one(self.STEP, Static).update(Text(text, style=style))

    def failure(self, error: BaseException | None, *, named: str, kept: str) -> Text:
        """Say on the step line how the engine worker failed, and return the text that
        explains it: cancelled (`kept`: what became of the work), its run exited non-zero
        (`named`: how to name it, `{}` its title), or not run."""
        if isinstance(error, StepCancelled):
            self.say_step("Cancelled.", "bold yellow")
            return Text(f"{error.message}. {kept}", style="bold yellow")
        if isinstance(error, StepFailed):
            run = error.run
            if run is None:
                self.say_step("Failed.", "bold red")
                text = Text(f"{error.message}\n\nits last log lines:\n", style="bold red")
            else:
                self.say_step(f"Failed: {run.title}.", "bold red")
                text = Text(f"{named.format(run.title)} failed with status {error.status}:\n",
                            style="bold red")
                text.append(f"$ {quoted(run.command)}\n\nits last log lines:\n")
            text.append("\n".join("  " + strip_ansi(line) for line in error.tail), style="dim")
            return text
        self.say_step("Not run.", "bold red")
        return error_text(error)

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
