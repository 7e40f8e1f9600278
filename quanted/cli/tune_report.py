"""What `quanted tune` prints: progress lines on stderr as the search goes, the report (or the
JSON object) on stdout at the end, and the plan for --dry-run."""

from __future__ import annotations

from typing import TextIO

from quanted.core.engine.calibration import compared
from quanted.core.engine.verify_result import QUANTIZED
from quanted.core.tune.apply import Applied
from quanted.core.tune.figures import Trial
from quanted.core.tune.progress import (
    Event,
    Note,
    PhaseStarted,
    Plan,
    PlanMade,
    TrialEnded,
    TrialStarted,
)
from quanted.core.tune.search import Outcome, Point, operating_points
from quanted.core.tune.session import Setup, TunePlan


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds}s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m{seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


def describe(trial: Trial) -> str:
    text = f"{len(trial.customized)} layer(s): min cosine {trial.min_cosine:.6f}"
    if trial.figures.top1:  # no top-1 without a class-score output
        text += f", top-1 {sum(trial.figures.top1)}/{len(trial.figures.top1)}"
    text += trial.figures.detail()
    if not trial.applied:
        names = ", ".join(trial.not_applied) or "; ".join(trial.notes)
        text += f", NOT APPLIED ({names})"
    return text


def eta_text(plan: Plan, done: int, eta: float | None) -> str:
    """`ETA 2m10s (at most 5m00s)`, or before the pruning is timed `ETA 40s + the pruning`."""
    if eta is None:
        return ""
    if plan.eta_is_partial():
        return f"ETA {duration(eta)} + the pruning"
    most = plan.eta_most(done)
    bound = f" (at most {duration(most)})" if most is not None and most > eta else ""
    return f"ETA {duration(eta)}{bound}"


class TuneProgressPrinter:
    """Progress lines for a person (stderr): phase, trial i of ~K, the set size, the last
    cosine, the ETA. The plan is said once, and again only when the pruning's start is known."""

    def __init__(self, of: TunePlan | Setup, stream: TextIO) -> None:
        self.of = of  # the plan's setup is made by the run when a plain table is rebuilt first
        self.stream = stream
        self.phase = ""
        self.timed = False
        self.planned = False

    def _say(self, text: str) -> None:
        print(f"quanted: {text}", file=self.stream, flush=True)

    @property
    def setup(self) -> Setup:
        setup = self.of.setup if isinstance(self.of, TunePlan) else self.of
        assert setup is not None, "a tune reports progress once it is set up"
        return setup

    def on_event(self, event: Event) -> None:
        if isinstance(event, Note):
            self._say(event.text)
            return
        plan = self.setup.plan
        if isinstance(event, PlanMade):
            if event.plan.prefix is None and self.planned:
                return
            lines = event.plan.lines()
            for line in lines if event.plan.prefix is None else lines[1:]:
                if not (self.timed and line.startswith("plan: one trial takes")):
                    self._say(line)
            self.planned = True
            self.timed = self.timed or event.plan.trial_seconds is not None
            if event.plan.prefix is None and self.setup.recorded:
                self._say(f"plan: {self.setup.recorded} trial(s) recorded for these inputs "
                          f"are reused ({self.setup.store.folder})")
        elif isinstance(event, PhaseStarted):
            self.phase = event.phase
            self._say(f"[{event.phase}] {event.text}")
        elif isinstance(event, TrialStarted):
            self._say(f"[{event.phase}] trial {event.index} of {plan.of_trials(event.index - 1)}: "
                      f"{len(event.layers)} layer(s) raised ...")
        elif isinstance(event, TrialEnded):
            trial = event.trial
            verdict = "meets" if event.meets else "misses"
            how = "recorded" if trial.cached else f"{trial.seconds:.1f} s"
            eta = eta_text(plan, event.index, event.eta)
            self._say(f"[{trial.phase}] trial {event.index} of {plan.of_trials(event.index)}: "
                      f"{describe(trial)} -> {verdict} ({how}{'; ' + eta if eta else ''})")
            if not self.timed and plan.trial_seconds is not None:
                self.timed = True
                self._say(f"plan: one trial takes about {plan.trial_seconds:.1f} s")


def dry_run_lines(setup: Setup) -> list[str]:
    plan = setup.plan
    out = [f"# tune {setup.quantize} (nothing is run or written)"]
    out += plan.lines()
    out.append(f"inputs measured: {setup.iterations}; trials recorded for them: "
               f"{setup.recorded} ({setup.store.folder})")
    out.append(f"the file's own list: {len(setup.current)} layer(s) (measured too)")
    if setup.ranking.pending:
        out.append("candidates, in entropy order until the analysis ranks them by drop:")
    else:
        out.append(f"candidates, highest priority first ({plan.rank}):")
    for index, layer in enumerate(plan.candidates, 1):
        figures = setup.ranking.comment(layer)[len("tune: "):]
        tied = plan.companions.get(layer)
        also = f"; raised with {', '.join(tied)} (the engine raises them only together)" \
            if tied else ""
        out.append(f"  {index:3d}  {layer}  ({figures}{also})")
    return out


def report_json(setup: Setup, outcome: Outcome, applied: Applied | None) -> dict:
    met = outcome.met if applied is None else applied.meets(outcome.target)
    return {
        "target": outcome.target.to_json(),
        "met": met,
        "base": {"key": setup.base.key, "source": setup.base.source,
                 "calibration": setup.base.calibration.to_json()},
        "calibrations": [{"name": side.name, "flags": list(side.flags),
                          "min_cosine": side.min_cosine, "top1_agree": side.top1_agree,
                          "count": side.count}
                         for side in compared(setup.quantize, setup.iterations)],
        "layers": dict(outcome.customized) if outcome.met else {},
        "trials": [trial.to_json() for trial in outcome.trials],
        "points": [point.to_json() for point in operating_points(outcome.trials)],
    }


def report_lines(setup: Setup, outcome: Outcome, applied: Applied | None) -> list[str]:
    out = [(f"tune {setup.quantize.name}: target {outcome.target.describe()} over "
            f"{setup.iterations} input(s)"),
           f"every figure is the --hybrid run on the {setup.base.describe()}",
           outcome.message]
    if outcome.met:
        out.append(f"layers ({len(outcome.customized)}, ranked by {setup.ranking.how}):")
        for layer, qtype in outcome.customized.items():
            out.append(f"  {layer}: {qtype}  # {setup.ranking.comment(layer)}")
    out.append("figures (worst cosine over inputs and outputs, top-1 agreeing inputs):")
    rows = [("plain (the base table, no list)", outcome.plain),
            (f"the file's own list ({len(setup.current)})", outcome.current),
            (f"all {len(setup.plan.candidates)} candidates raised", outcome.everything),
            ("the set found (its trial)", outcome.result if outcome.met else None)]
    for label, trial in rows:
        if trial is not None:
            out.append(f"  {label:<34} {describe(trial)}")
    out += _calibration_lines(setup)
    if outcome.refused:
        out.append(f"not applied by the engine, left out: {', '.join(outcome.refused)}")
    if applied is not None:
        out += _applied_lines(setup, applied)
    engine = sum(t.seconds for t in outcome.trials if not t.cached)
    reused = sum(1 for t in outcome.trials if t.cached)
    out.append(f"trials: {len(outcome.trials)} ({reused} reused from {setup.store.folder}), "
               f"{duration(engine)} of engine time")
    points = operating_points(outcome.trials)
    checked = any(p.acceptable is not None for p in points)
    out.append("operating points (layers raised: best worst-cosine measured"
               + ("; the check on that trial" if checked else "") + "):")
    out += [f"  {p.count:4d}: {p.min_cosine:.6f}" + _point_check(p) for p in points]
    return out


def _point_check(point: Point) -> str:
    if point.acceptable is None:
        return ""
    verdict = "acceptable" if point.acceptable else "NOT acceptable"
    return f"  {verdict}" + (f", metric={point.metric:g}" if point.metric is not None else "")


def _calibration_lines(setup: Setup) -> list[str]:
    """The seed's first lever: each calibration `quanted quantize --compare` measured, with
    nothing raised. Another calibration is another plain model, never "plain" here."""
    out = []
    for side in compared(setup.quantize, setup.iterations):
        ours = " (the base's)" if side.flags == setup.base.calibration.flags else ""
        cosine = "-" if side.min_cosine is None else f"{side.min_cosine:.6f}"
        label = f"calibration {side.name}{ours}, no list"
        out.append(f"  {label:<34} 0 layer(s): min cosine {cosine}, top-1 "
                   f"{side.top1_agree}/{side.count} (quanted quantize --compare)")
    return out


def _applied_lines(setup: Setup, applied: Applied) -> list[str]:
    out = []
    if applied.removed:
        out.append(f"removed from the list ({len(applied.removed)}; the old file is "
                   f"{applied.backup}): {', '.join(applied.removed)}")
    if applied.hybrid is not None and applied.hybrid.failures:
        out += [f"engine: {failure.describe()}" for failure in applied.hybrid.failures]
    if applied.hybrid is not None and applied.hybrid.restored:
        out.append(f"the hybrid run failed: {applied.hybrid.restored}")
    summary = applied.summary
    if summary is not None and summary.min_cosine is not None:
        verdict = "meets" if applied.meets(setup.options.target) else "MISSES"
        top1 = f", top-1 {summary.top1_agree}/{summary.ranked}" if summary.ranked else ""
        check = applied.verify.checks.get(QUANTIZED) if applied.verify is not None else None
        judged = f", check {check.text()}" if check is not None else ""
        out.append(f"  {'verify of ' + setup.quantize.name:<34} min cosine "
                   f"{summary.min_cosine:.6f}{top1}{judged} -> {verdict} the target")
    return out
