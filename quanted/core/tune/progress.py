"""What a tune tells its driver as it goes (the CLI prints it to stderr, the editor shows it),
and the plan: how many trials to expect, refined as the search learns the prefix length."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from quanted.core.tune.figures import Target, Trial


@dataclass
class Plan:
    """Expected trials: the bounds (plain, all raised, and the file's own list when it is
    another set), ceil(log2 N) bisection steps, then the pruning of the P members found
    (prune.Pruning): P-1 until it starts (its last layer is known to be needed: the prefix
    without it is the bisection's failing bound), then the pruning's own running figure:
    the trials so far, the re-measures it owes and one per member not settled yet (at the
    end, the trials it took). `most` is a hard bound."""

    candidates: list[str]  # ranked, highest priority first
    rank: str  # "entropy" or "drop"
    target: Target
    qtype: str
    jobs: int = 1
    companions: dict[str, tuple[str, ...]] = field(default_factory=dict)  # see rank.companions
    bounds: int = 2
    prefix: int | None = None  # the shortest passing prefix, once bisection found it
    trial_seconds: float | None = None  # the mean of the trials run so far
    analysis_runs: int = 0  # engine runs of the analysis --rank drop needs first (not trials)
    configuration: str = ""  # what every trial starts from: the base table and calibration
    notes: list[str] = field(default_factory=list)  # about that starting point
    running: int | None = None  # once pruning has started: its running figure of the total

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

    def eta(self, done: int) -> float | None:
        """Seconds left, from the measured trial time; covers the pruning once P is known."""
        if self.trial_seconds is None:
            return None
        total = self.expected if self.expected is not None else self.before_pruning()
        return max(total - done, 0) * self.trial_seconds

    def lines(self) -> list[str]:
        n = len(self.candidates)
        out = [(f"plan: {n} candidate layer(s), ranked by {self.rank}, raised to "
                f"{self.qtype}; target {self.target.describe()}")]
        if self.configuration:
            out.append(f"plan: every trial is the --hybrid run on the {self.configuration}")
        out.extend(f"plan: note: {note}" for note in self.notes)
        if self.analysis_runs and self.prefix is None:
            out.append(f"plan: ranking by drop needs an analysis of the file and none is "
                       f"cached: after the bounds, one runs ({self.analysis_runs} engine "
                       "run(s), kept in .quanted/analysis/ for `quanted analyze`); until then "
                       "the candidates are in entropy order")
        if self.prefix is None:
            out.append(f"plan: about {self.bounds} + {self.bisect} + P trials: {self.bounds} "
                       f"bounds, at most {self.bisect} bisection (log2 {n}), then pruning the P "
                       "layers by groups: about P-1 trials when most are needed, far fewer "
                       "when groups can go (P = the shortest passing prefix)")
        else:
            out.append(f"plan: prefix of {self.prefix} found; about {self.expected} trials in "
                       f"all, at most {self.most}")
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
