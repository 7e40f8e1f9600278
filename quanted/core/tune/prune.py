"""Pruning a passing set down to a 1-minimal one by groups (delta debugging's idea: drop many
members in one trial where that still meets the target, fewer where it does not).

The members are taken lowest priority first. One *search* finds how many of the lowest
untested members can go at once: it drops a group (the lower half of them at first, later
about as many as the last search dropped), doubles the group while the target is still met,
and once it is missed, halves the interval between the largest group that met it and the
smallest that missed, down to single members. It ends with a group dropped (its trial met the
target) and the member just above it kept: the set without that member was measured to miss.
A run of needed members costs one trial each, a gap of g droppable ones about 2 log2 g.

A kept member's measurement holds for the set it was made on; a later removal makes it stale.
The last step measures each stale member again on the final set (dropping it if that now
meets the target: the response need not be monotonic) until every single removal from the
final set has been measured to miss. With --jobs J, a search tries J group sizes at once
(nested: each drops the smaller ones' members and more) and the re-measures run J at a time.
Sets the book already knows (this run's, or recorded in .quanted/tune/) cost no engine run."""

from __future__ import annotations

from collections.abc import Callable

from quanted.core.tune.book import Book
from quanted.core.tune.figures import Target, Trial
from quanted.core.tune.progress import Plan
from quanted.core.tune.store import trial_key

PHASE = "prune"


class OutOfTrials(Exception):
    """--max-trials ran out; `Pruning.members` is still a set measured to meet the target."""


class Pruning:
    def __init__(self, book: Book, plan: Plan, target: Target,
                 raised: Callable[[list[str]], dict[str, str]], members: list[str]) -> None:
        self.book = book
        self.plan = plan
        self.target = target
        self.raised = raised
        self.members = list(members)  # ranking order; always a set measured to meet
        self.untested = list(reversed(members))  # lowest priority first
        self.kept: dict[str, str] = {}  # member -> the set (its key) its removal missed on

    def run(self) -> list[str]:
        """The 1-minimal set; raises OutOfTrials when the budget runs out first."""
        step: int | None = None
        while True:
            self._settle_known()
            self._estimate()
            if not self.untested:
                break
            dropped = self._search(step or max(len(self.untested) // 2, 1))
            step = 1 << (dropped.bit_length() - 1) if dropped else 1
        self._recheck()
        return self.members

    def _key(self) -> str:
        return trial_key(self.raised(self.members))

    def _without(self, gone: list[str]) -> dict[str, str]:
        out = set(gone)
        return self.raised([m for m in self.members if m not in out])

    def _measure(self, sets: list[dict[str, str]]) -> list[Trial]:
        trials = self.book.evaluate(sets, PHASE)
        found = [trial for trial in trials if trial is not None]
        if len(found) < len(trials):
            raise OutOfTrials
        return found

    def _settle_known(self) -> None:
        """The lowest untested members whose removal the book has measured already (the
        prefix's last member: the bisection's failing bound), at no cost."""
        while self.untested:
            member = self.untested[0]
            known = self.book.known(self._without([member]), PHASE)
            if known is None:
                return
            if known.meets(self.target):
                self.members.remove(member)
            else:
                self.kept[member] = self._key()
            self.untested.pop(0)

    def _search(self, step: int) -> int:
        """Drop the longest run of lowest untested members found droppable and keep the member
        above it; the number dropped."""
        u = len(self.untested)
        lo, hi = 0, None  # dropping the lowest lo met the target (0: the set as it is), hi missed
        size = min(step, u)
        while hi is None and lo < u:
            sizes = sorted({min(size << i, u) for i in range(self.plan.jobs)})
            lo, hi = self._bracket(lo, hi, sizes)
            size = min(sizes[-1] * 2, u)
        while hi is not None and hi - lo > 1:
            parts = self.plan.jobs + 1
            points = sorted({lo + (hi - lo) * i // parts for i in range(1, parts)} - {lo, hi})
            lo, hi = self._bracket(lo, hi, points)
        dropped = set(self.untested[:lo])
        self.members = [m for m in self.members if m not in dropped]
        settled = lo
        if hi is not None:
            self.kept[self.untested[lo]] = self._key()
            settled += 1
        self.untested = self.untested[settled:]
        return lo

    def _bracket(self, lo: int, hi: int | None, sizes: list[int]) -> tuple[int, int | None]:
        """Measure dropping each of `sizes` lowest untested members; the largest size that met
        the target and the smallest above it that missed (a response that is not monotonic may
        meet it again past a miss: any size that met it is a valid set to go on from)."""
        trials = self._measure([self._without(self.untested[:s]) for s in sizes])
        met = dict(zip(sizes, (trial.meets(self.target) for trial in trials)))
        lo = max([lo] + [s for s, ok in met.items() if ok and (hi is None or s < hi)])
        above = [s for s, ok in met.items() if not ok and s > lo]
        if hi is not None and hi > lo:
            above.append(hi)
        return lo, min(above) if above else None

    def _recheck(self) -> None:
        """Measure each stale kept member's removal again on the set as it is, lowest priority
        first, J at a time; one that now meets the target goes, and makes the others stale."""
        while True:
            key = self._key()
            stale = [m for m in reversed(self.members) if self.kept.get(m) != key]
            self._estimate(len(stale))
            if not stale:
                return
            dropped = False
            for start in range(0, len(stale), self.plan.jobs):
                batch = stale[start:start + self.plan.jobs]
                for member, trial in zip(batch, self._measure(
                        [self._without([m]) for m in batch])):
                    if trial.meets(self.target):
                        self.members.remove(member)
                        dropped = True
                        break
                    self.kept[member] = key
                if dropped:
                    break
            if not dropped:
                self._estimate(0)
                return

    def _estimate(self, stale: int | None = None) -> None:
        """The plan's running total: the trials so far, the stale members' re-measures, and
        one trial per member not settled yet (what a run of needed members costs; a gap of
        droppable ones costs less, so the figure falls as groups go, never below the count)."""
        if stale is None:
            key, untested = self._key(), set(self.untested)
            stale = sum(1 for m in self.members if m not in untested
                        and self.kept.get(m) != key)
        self.plan.running = len(self.book.trials) + stale + len(self.untested)
