"""The search, in phases (each announced through `on_event`):

1. bounds: the plain model (nothing raised) and every candidate raised (and the file's own
   list, a free operating point). Plain meeting the target ends the search with the empty
   list; all-raised missing it ends it too: no layer set reaches the target with this qtype.
   Candidates the engine did not apply in the all-raised trial are dropped from the ranking.
2. ranking, when the order waits on an analysis (`--rank drop` with none cached): `rerank`
   runs it and gives the order; candidates the engine refused stay out.
3. bisection over the ranked candidates for the shortest prefix that meets the target (the
   plain model is the failing bound, all-raised the passing one; a response that is not
   monotonic still ends with a failing prefix next to a passing one).
4. pruning by groups, lowest priority first (prune.Pruning): drop as many members at once
   as still meets the target, down to single members, then measure again each kept member's
   removal made stale by a later one, until every single removal has been measured to miss
   on the final set: the result is 1-minimal.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from quanted.core.tune.book import Book
from quanted.core.tune.figures import Target, Trial
from quanted.core.tune.progress import Event, Note, PhaseStarted, Plan, PlanMade
from quanted.core.tune.prune import OutOfTrials, Pruning
from quanted.core.tune.store import trial_key

PLAIN, UNREACHABLE, FOUND, BUDGET = "plain", "unreachable", "found", "budget"
# The ranking made after the bounds: (candidates highest priority first, their companions)
Reranker = Callable[[], tuple[list[str], dict[str, tuple[str, ...]]]]


@dataclass
class Outcome:
    target: Target
    met: bool  # the layers found meet the target (measured in a trial)
    customized: dict[str, str]  # the set found, in ranking order
    reason: str  # PLAIN, UNREACHABLE, FOUND or BUDGET
    message: str
    minimal: bool = False  # every single removal was measured to miss
    trials: list[Trial] = field(default_factory=list)
    plain: Trial | None = None
    everything: Trial | None = None
    current: Trial | None = None  # the file's own list, when it was another set
    result: Trial | None = None  # the trial of the set found
    refused: tuple[str, ...] = ()  # candidates the engine did not apply
    prefix: int | None = None

    @property
    def layers(self) -> tuple[str, ...]:
        return tuple(self.customized)

    def points(self) -> list[tuple[int, float]]:
        """Layers raised -> the best worst-case cosine measured with that many (applied)."""
        return [(p.count, p.min_cosine) for p in operating_points(self.trials)]


@dataclass(frozen=True)
class Point:
    """An operating point: with `count` layers raised, the trial with the best worst-case
    cosine, and the task check's verdict and metric on that same trial (None without)."""

    count: int
    min_cosine: float
    acceptable: bool | None = None
    metric: float | None = None

    def to_json(self) -> dict:
        return {"count": self.count, "min_cosine": self.min_cosine,
                "acceptable": self.acceptable, "metric": self.metric}


def operating_points(trials: list[Trial]) -> list[Point]:
    """One Point per count of layers raised among the applied trials, fewest first (the first
    trial of the best cosine at a count when several tie)."""
    best: dict[int, Trial] = {}
    for trial in trials:
        count = len(trial.customized)
        if trial.applied and (count not in best or trial.min_cosine > best[count].min_cosine):
            best[count] = trial
    points = []
    for count, trial in sorted(best.items()):
        check = trial.figures.check
        points.append(Point(count, trial.min_cosine,
                            None if check is None else check.acceptable,
                            None if check is None else check.metric))
    return points


class Search:
    def __init__(self, book: Book, plan: Plan, current: dict[str, str],
                 on_event: Callable[[Event], None], rerank: Reranker | None = None) -> None:
        self.book = book
        self.rerank = rerank
        self.plan = plan
        self.current = current
        self.on_event = on_event
        self.target = plan.target
        self.members: list[str] = []  # the candidates of the passing set, once bisection ends

    def raised(self, layers: list[str] | tuple[str, ...]) -> dict[str, str]:
        """The candidate list raising `layers`, each with the companions it needs first."""
        out: dict[str, str] = {}
        for layer in layers:
            for companion in self.plan.companions.get(layer, ()):
                out[companion] = self.plan.qtype
            out[layer] = self.plan.qtype
        return out

    def run(self) -> Outcome:
        outcome = Outcome(self.target, False, {}, BUDGET, "the trial budget ran out")
        try:
            (self._bounds(outcome) and self._rank(outcome) and self._bisect(outcome)
             and self._prune(outcome))
        finally:
            outcome.trials = list(self.book.trials)
        self.on_event(Note(outcome.message))
        return outcome

    def _budget(self, outcome: Outcome, best: list[str] | None) -> bool:
        outcome.reason = BUDGET
        if best is None:
            outcome.message = (f"--max-trials {self.book.max_trials} ran out before a set "
                               "meeting the target was found")
            return False
        outcome.met, outcome.customized = True, self.raised(best)
        outcome.result = self.book.known(outcome.customized, "prune")
        outcome.message = (f"--max-trials {self.book.max_trials} ran out: these {len(best)} "
                           "layer(s) meet the target but are not proven minimal")
        return False

    def _bounds(self, outcome: Outcome) -> bool:
        candidates = list(self.plan.candidates)
        everything = self.raised(candidates)
        extra = [self.current] if trial_key(self.current) not in (
            trial_key({}), trial_key(everything)) else []
        self.plan.bounds = 2 + len(extra)
        self.on_event(PlanMade(self.plan))
        own = f", the file's own list ({len(self.current)})" if extra else ""
        self.on_event(PhaseStarted("bounds", f"plain (nothing raised), all {len(candidates)} "
                                             f"candidates raised{own}"))
        if self.plan.jobs > 1:
            plain, every, *mine = self.book.evaluate([{}, everything, *extra], "bounds")
        else:
            [plain] = self.book.evaluate([{}], "bounds")
            every = None
            if plain is not None and not plain.meets(self.target):
                [every] = self.book.evaluate([everything], "bounds")
            mine = self.book.evaluate(extra, "bounds")
        outcome.plain, outcome.current = plain, (mine[0] if mine else None)
        if plain is None:
            return self._budget(outcome, None)
        if plain.meets(self.target):
            outcome.met, outcome.customized, outcome.result = True, {}, plain
            outcome.reason, outcome.minimal = PLAIN, True
            outcome.message = (f"the plain model already meets the target (min cosine "
                               f"{plain.min_cosine:.6f}): no layer needs raising")
            return False
        refused: list[str] = []
        while every is not None and not every.applied and every.not_applied:
            refused += every.not_applied
            self.on_event(Note(f"the engine did not apply {self.plan.qtype} to "
                               f"{', '.join(every.not_applied)}: dropped from the candidates"))
            candidates = [c for c in candidates if c not in refused and not set(
                self.plan.companions.get(c, ())) & set(refused)]
            self.plan.candidates = candidates
            self.plan.bounds += 1
            [every] = self.book.evaluate([self.raised(candidates)], "bounds") if candidates \
                else [None]
            if not candidates:
                break
        outcome.refused, outcome.everything = tuple(refused), every
        if every is None:
            if candidates:
                return self._budget(outcome, None)
            outcome.reason = UNREACHABLE
            outcome.message = "the engine applied the qtype to none of the candidates"
            return False
        if not every.meets(self.target):
            outcome.reason = UNREACHABLE
            if not every.applied:
                why = f"the engine reported: {'; '.join(every.notes)}"
            else:
                why = every.figures.missed(self.target)
            outcome.message = (f"even with all {len(candidates)} candidates raised to "
                               f"{self.plan.qtype} the target is missed ({why}): no layer "
                               "set reaches it with this qtype")
            return False
        return True

    def _rank(self, outcome: Outcome) -> bool:
        if self.rerank is None:
            return True
        order, companions = self.rerank()
        refused = set(outcome.refused)
        self.plan.companions = companions
        self.plan.candidates = [c for c in order if c not in refused
                                and not set(companions.get(c, ())) & refused]
        self.plan.analysis_runs = 0
        return True

    def _bisect(self, outcome: Outcome) -> bool:
        ranked = list(self.plan.candidates)
        lo, hi = 0, len(ranked)  # prefix(lo) misses, prefix(hi) meets
        self.on_event(PhaseStarted("bisect", f"the shortest passing prefix of {hi} ranked "
                                             f"candidates (at most {self.plan.bisect} trials)"))
        while hi - lo > 1:
            mid = (lo + hi) // 2
            [trial] = self.book.evaluate([self.raised(ranked[:mid])], "bisect")
            if trial is None:
                return self._budget(outcome, ranked[:hi])
            if trial.meets(self.target):
                hi = mid
            else:
                lo = mid
        outcome.prefix = hi
        self.members = ranked[:hi]
        own = self._own_members(outcome)
        if own is not None and len(own) < hi:
            self.members = own
            self.on_event(Note(f"the file's own list ({len(self.current)} layers) meets the "
                               f"target with fewer candidates than the prefix ({hi}): the "
                               "pruning starts from it"))
        self.plan.prefix = len(self.members)
        self.on_event(PlanMade(self.plan))
        outcome.customized = self.raised(self.members)
        return True

    def _own_members(self, outcome: Outcome) -> list[str] | None:
        """The file's own list as candidates (ranked), when it meets the target and is exactly
        some candidates raised to the qtype with their companions."""
        if outcome.current is None or not outcome.current.meets(self.target):
            return None
        members = [c for c in self.plan.candidates if c in self.current]
        if trial_key(self.raised(members)) != trial_key(self.current):
            return None
        return members

    def _prune(self, outcome: Outcome) -> bool:
        pruning = Pruning(self.book, self.plan, self.target, self.raised, self.members)
        self.on_event(PhaseStarted("prune", f"drop groups of the {len(self.members)} "
                                            "layer(s), lowest priority first: the lower half, "
                                            "then fewer, down to single layers"))
        try:
            members = pruning.run()
        except OutOfTrials:
            return self._budget(outcome, pruning.members)
        outcome.met, outcome.customized, outcome.minimal = True, self.raised(members), True
        outcome.reason = FOUND
        outcome.result = self.book.known(outcome.customized, "prune")
        outcome.message = (f"{len(outcome.customized)} layer(s) meet the target; dropping "
                           "any one of them misses it")
        return True
