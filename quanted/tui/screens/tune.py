"""T: `quanted tune` in the editor. The target first (worst cosine, top-1), enter starts; then
the plan and its ETA, each trial as it ends, and a plot of layers raised vs worst cosine.
escape cancels (the file is untouched: trials run in scratch folders). Beside the target, the
user's task check (`quanted tune --check CMD`; remembered for the session, shared with verify):
a trial then meets the target only when the check accepts it, and each trial's line says its
verdict and metric. After a search that met the target, `a` applies: the set becomes the open
document's list as one undoable edit, and the editor offers the hybrid run."""

from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import Checkbox, Input, Label, ProgressBar, Static

from quanted.core.document.model import QuantizeDocument
from quanted.core.engine.step import Events
from quanted.core.engine.taskcheck import TaskCheck
from quanted.core.errors import QuantedError, describe
from quanted.core.tune import session
from quanted.core.tune.apply import write_into
from quanted.core.tune.figures import Target
from quanted.core.tune.progress import Event, Note, PhaseStarted, PlanMade, TrialEnded
from quanted.core.tune.search import Outcome, operating_points
from quanted.tui.keymap import ENGINE_SCREEN_KEYS, TUNE_KEYS
from quanted.tui.screens.engine_base import DONE, IDLE, RUNNING, EngineScreen
from quanted.tui.widgets.engine_log import EngineLog, status_row
from quanted.tui.widgets.key_hints import KeyHints
from quanted.tui.widgets.tune_plot import TunePlot


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes}m{rest:02d}s" if minutes else f"{rest}s"


class TuneScreen(EngineScreen):
    BINDINGS = [spec.binding() for spec in TUNE_KEYS if spec.id != "tune.start"]
    AUTO_FOCUS = "#target-cosine"
    VERB = "tune"

    class Progress(Message):
        def __init__(self, event: Event) -> None:
            super().__init__()
            self.event = event

    class Finished(Message):
        def __init__(self, outcome: Outcome) -> None:
            super().__init__()
            self.outcome = outcome

    def __init__(self, doc: QuantizeDocument, display_name: str) -> None:
        super().__init__(doc, display_name)
        self.plan: session.TunePlan | None = None
        self.outcome: Outcome | None = None

    @property
    def setup(self) -> session.Setup | None:
        """The tune's setup, once planned (after the plain table's rebuild, when one is
        needed)."""
        return self.plan.setup if self.plan is not None else None

    def compose(self) -> ComposeResult:
        yield Label(f"Tune · {self.display_name}: the fewest layers to raise so quantized "
                    "meets float", id="tune-title", classes="engine-title")
        with Horizontal(id="tune-targets"):
            yield Label("worst cosine ≥", classes="engine-hint")
            yield Input("0.99", id="target-cosine", restrict=r"[0-9.]*")
            yield Checkbox("top-1 = float on every input", id="target-top1")
            yield Label("check", classes="engine-hint")
            yield Input(self.task_check, id="tune-check",
                        placeholder="optional: CMD FLOAT_DIR QUANT_DIR")
        yield Static("enter starts; trials run in scratch folders, your file is untouched",
                     id="tune-plan", markup=False)
        yield from status_row("tune-state", bar="tune-bar")
        yield TunePlot(id="tune-plot")
        yield EngineLog(id="log")
        yield KeyHints(specs=(*TUNE_KEYS, *ENGINE_SCREEN_KEYS), id="keys")

    def on_mount(self) -> None:
        self.log_view.border_title = "trials"
        self.query_one(TunePlot).border_title = "layers raised vs worst cosine"

    @on(Input.Submitted, "#target-cosine")
    @on(Input.Submitted, "#tune-check")
    def action_start(self) -> None:
        if self.state != IDLE:
            return
        try:
            cosine = float(self.query_one("#target-cosine", Input).value)
        except ValueError:
            self.notify("The target cosine is a number, like 0.99.", severity="error")
            return
        command = self.query_one("#tune-check", Input).value.strip()
        try:
            check = TaskCheck.parse(command) if command else None
        except QuantedError as exc:
            self.notify(f"check: {exc.message}", severity="error")
            return
        self.task_check = command  # the verify screen offers it too
        target = Target(cosine, self.query_one("#target-top1", Checkbox).value, check=check)
        self.begin()
        self.query_one("#tune-state", Static).update("planning…")
        self.log_view.focus()
        self.run_search(target)

    @work(thread=True, exclusive=True, exit_on_error=False, group="engine")
    def run_search(self, target: Target) -> None:
        self.plan = the_plan = session.plan(self.doc, session.Options(target))

        def progress(event: Event) -> None:
            self.post_message(self.Progress(event))

        outcome = session.run(the_plan, Events(progress=progress), self.token)
        self.post_message(self.Finished(outcome))

    def show_cancelling(self) -> None:
        self.query_one("#tune-state", Static).update("cancelling…")

    @on(Progress)
    def _progress(self, message: Progress) -> None:
        event = message.event
        self.ran = True
        if isinstance(event, PlanMade):
            self.query_one("#tune-plan", Static).update("\n".join(event.plan.lines()))
        elif isinstance(event, PhaseStarted):
            self.query_one("#tune-state", Static).update(f"[{event.phase}] {event.text}")
            self.log_view.buffer.append(f"\x1b[1m[{event.phase}] {event.text}\x1b[0m")
        elif isinstance(event, TrialEnded):
            trial = event.trial
            verdict = "meets" if event.meets else "misses"
            applied = "" if trial.applied else ", NOT APPLIED"
            how = "recorded" if trial.cached else f"{trial.seconds:.1f} s"
            self.log_view.buffer.append(
                f"trial {event.index}: {len(trial.customized)} layer(s), min cosine "
                f"{trial.min_cosine:.6f}{trial.figures.detail()}{applied} -> {verdict} ({how})")
            bar = self.query_one("#tune-bar", ProgressBar)
            plan = self.setup.plan if self.setup is not None else None
            if plan is not None:
                total = event.index + plan.trials_left(event.index)
                bar.update(total=total, progress=event.index)
                pruning = " + the pruning" if plan.eta_is_partial() else ""
                self.query_one("#tune-state", Static).update(
                    f"[{trial.phase}] trial {event.index} of {plan.of_trials(event.index)}; ETA "
                    f"{_duration(event.eta)}{pruning}")
            self._plot()
        elif isinstance(event, Note):
            self.log_view.buffer.append(event.text)

    def _plot(self) -> None:
        if self.setup is None or self.setup.book is None:
            return
        points = operating_points(self.setup.book.trials)
        met = self.outcome is not None and self.outcome.met
        self.query_one(TunePlot).show(
            [(p.count, p.min_cosine) for p in points], self.setup.options.target.cosine,
            {p.count: (p.acceptable, p.metric) for p in points},
            len(self.outcome.customized) if met and self.outcome is not None else None)

    @on(Finished)
    def _finished(self, message: Finished) -> None:
        self.end()
        self.outcome = outcome = message.outcome
        self._plot()
        lines = [outcome.message]
        if outcome.met:
            lines += [f"  {layer}: {qtype}" for layer, qtype in outcome.customized.items()]
            lines.append("a applies it to the file's list (undoable), then the hybrid run")
        self.query_one("#tune-state", Static).update(
            f"done: {len(outcome.trials)} trials" + (" · a applies" if outcome.met else ""))
        self.query_one("#tune-plan", Static).update(Text("\n".join(lines),
                                                         style="green" if outcome.met else "red"))

    def action_apply(self) -> None:
        if self.state != DONE or self.outcome is None or not self.outcome.met \
                or self.setup is None:
            self.notify("Nothing to apply yet: a search has to meet the target first.",
                        severity="warning")
            return
        write_into(self.doc, self.outcome.customized, self.setup.ranking)  # one undoable step
        self.then = "hybrid"
        self.dismiss(self.ran)

    def engine_failed(self, error: BaseException | None) -> None:
        self.state = DONE if self.state == RUNNING else self.state
        text = describe(error) if error is not None else "cancelled"
        self.query_one("#tune-state", Static).update("stopped")
        self.query_one("#tune-plan", Static).update(Text(f"tune: {text}", style="red"))
