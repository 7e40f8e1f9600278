"""What a tune tells its driver as it goes (the CLI prints it to stderr, the editor shows it),
and the plan: how many trials to expect, refined as the search learns the prefix length."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from quanted.core.tune.figures import Target, Trial


# The hybrid run and verify `quanted tune` ends with cost about one trial (a trial is a hybrid
# run and an inference in a scratch folder).
FINISH_TRIALS = 1


@dataclass
class Plan:
    """Expected trials: the bounds (plain, all raised, and the file's own list when it is
    another set), ceil(log2 N) bisection steps, then the pruning of the P members found
    (prune.Pruning): P-1 until it starts (its last layer is known to be needed: the prefix
    without it is the bisection's failing bound), then the pruning's own running figure:
    the trials so far, the re-measures it owes and one per member not settled yet (at the
    end, the trials it took). `most` is a hard bound.
    `then_apply`: the hybrid run and verify follow the search (the CLI); the ETA counts them."""

    candidates: list[str]  # ranked, highest priority first
    rank: str  # "entropy" or "drop"
    target: Target
    qtype: str
    jobs: int = 1
    companions: dict[str, tuple[str, ...]] = field(default_factory=dict)  # see rank.companions
    bounds: int = 2
    prefix: int | None = None  # the set the pruning starts from, once bisection found it
    trial_seconds: float | None = None  # the mean of the trials run so far
    analysis_runs: int = 0  # engine runs of the analysis --rank drop needs first (not trials)
    configuration: str = ""  # what every trial starts from: the base table and calibration
    notes: list[str] = field(default_factory=list)  # about that starting point
    running: int | None = None  # once pruning has started: its running figure of the total
    then_apply: bool = False

    def raised(self, layers: list[str]) -> dict[str, str]:
        """The candidate list raising `layers` with their companions (as the search makes it)."""
        out: dict[str, str] = {}
        for layer in layers:
            out.update(dict.fromkeys(self.companions.get(layer, ()), self.qtype))
            out[layer] = self.qtype
        return out

    def count_bounds(self, current: dict[str, str]) -> None:
        """The bounds the search measures: plain, all raised, and the file's own list when it
        is neither (said the same in the dry run as in the run)."""
        own = current and current != self.raised(self.candidates)
        self.bounds = 2 + (1 if own else 0)

    @property
    def bisect(self) -> int:
        return math.ceil(math.log2(len(self.candidates))) if len(self.candidates) > 1 else 0

    @property
    def expected(self) -> int | None:
        """About how many trials in all; None until the prefix length is known."""
        if self.prefix is None:
            return None
        if self.running is not None:
            return self.running
        return self.bounds + self.bisect + max(self.prefix - 1, 0)

    @property
    def most(self) -> int | None:
        """A hard bound on the trials, once the prefix length is known."""
        if self.prefix is None:
            return None
        # at most P searches of J trials a round over at most 2 log2 P + 1 rounds, then at
        # most P passes re-measuring the stale members (one drop each) J at a time
        p, j = self.prefix, self.jobs
        searches = p * j * (2 * math.ceil(math.log2(p)) + 1) if p > 1 else p
        return self.bounds + self.bisect + searches + p * (p + 1) // 2 + (j - 1) * p

    def before_pruning(self) -> int:
        return self.bounds + self.bisect

    def trials_left(self, done: int) -> int:
        """Trials still to run, about: while the pruning runs past its estimate (each removal
        re-checks the others), at least one more."""
        if self.prefix is None:
            return max(self.before_pruning() - done, 0)
        expected = self.expected or 0
        return max(expected - done, 1 if self.prefix > 1 else 0)

    def eta(self, done: int) -> float | None:
        """Seconds left, from the measured trial time: the trials left, and the hybrid run and
        verify when they follow. Before the prefix length is known the pruning cannot be
        timed: eta_is_partial() says so."""
        if self.trial_seconds is None:
            return None
        finish = FINISH_TRIALS if self.then_apply else 0
        return (self.trials_left(done) + finish) * self.trial_seconds

    def eta_most(self, done: int) -> float | None:
        """Seconds left at most (the pruning's hard bound), once the prefix length is known."""
        if self.trial_seconds is None or self.most is None:
            return None
        finish = FINISH_TRIALS if self.then_apply else 0
        return (max(self.most - done, 0) + finish) * self.trial_seconds

    def eta_is_partial(self) -> bool:
        return self.prefix is None

    def of_trials(self, done: int) -> str:
        """`~12` (the trials expected in all, never fewer than are run), `~7+P` before the
        prefix length is known."""
        if self.expected is None:
            return f"~{self.before_pruning()}+P"
        return f"~{max(self.expected, done + self.trials_left(done))}"

    def _then(self) -> str:
        return ", then the hybrid run and verify" if self.then_apply else ""

    def lines(self) -> list[str]:
        n = len(self.candidates)
        out = [(f"plan: {n} candidate layer(s), ranked by {self.rank}, raised to "
                f"{self.qtype}; target {self.target.describe()}")]
        if self.configuration and self.prefix is None:
            out.append(f"plan: every trial is the --hybrid run on the {self.configuration}")
        out.extend(f"plan: note: {note}" for note in self.notes if self.prefix is None)
        if self.analysis_runs and self.prefix is None:
            out.append(f"plan: ranking by drop needs an analysis of the file and none is "
                       f"cached: after the bounds, one runs ({self.analysis_runs} engine "
                       "run(s), kept in .quanted/analysis/ for `quanted analyze`); until then "
                       "the candidates are in entropy order")
        if self.prefix is None:
            own = ", the file's own list" if self.bounds > 2 else ""
            out.append(f"plan: {self.bounds} bounds (plain, all {n} raised{own}), at most "
                       f"{self.bisect} bisection trials (log2 {n}), then pruning the P layers "
                       "by groups: about P-1 trials when most are needed, far fewer when groups "
                       f"can go (P: the shortest passing set){self._then()}")
        else:
            out.append(f"plan: the pruning starts from {self.prefix} layer(s): about "
                       f"{self.expected} trials in all, at most {self.most}{self._then()}")
        if self.trial_seconds is not None:
            out.append(f"plan: one trial takes about {self.trial_seconds:.1f} s")
        return out


@dataclass(frozen=True)
class PlanMade:
    plan: Plan


@dataclass(frozen=True)
class PhaseStarted:
    phase: str  # "bounds", "ranking", "bisect", "prune", "apply", "hybrid", "verify"
    text: str


@dataclass(frozen=True)
class TrialStarted:
    phase: str
    layers: tuple[str, ...]
    index: int  # 1-based, among this run's trials
    expected: int | None


@dataclass(frozen=True)
class TrialEnded:
    trial: Trial
    index: int
    expected: int | None
    eta: float | None  # seconds
    meets: bool


@dataclass(frozen=True)
class Note:
    text: str


Event = PlanMade | PhaseStarted | TrialStarted | TrialEnded | Note
