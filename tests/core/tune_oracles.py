"""STAND-IN oracles for the tune search, no engine: a deterministic function of the raised
set says whether a trial meets the target (worst cosine 0.999 when it does, 0.9 when not),
and `replay` runs the real search (quanted.core.tune.search.Search, with the real Book) on it
over made-up candidates `L000`, `L001`, ... (highest priority first). The journal is a
stand-in too, in memory, unless a folder is given. Used by tests/core/test_tune_oracles.py
and benchmarks/bench_tune_trials.py (which replays the old one-at-a-time pruning beside it).

Shapes:
- `essential(E)`: a set meets iff it raises every layer of E (monotone; E is the one minimal
  set);
- `budget(errors, allowed)`: each layer left plain adds its error, a set meets iff the sum
  stays within `allowed` (monotone; many minimal sets, the one found depends on the order);
- `spoiled(E, seed)`: `essential(E)`, except that about one set in four containing E misses
  for no reason but a hash of the set (not monotone; raising every candidate always meets)."""

from __future__ import annotations

import hashlib
import math
import tempfile
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path

from quanted.core.tune import runner
from quanted.core.tune.book import Book
from quanted.core.tune.figures import Outputs, Target, Trial
from quanted.core.tune.progress import Plan
from quanted.core.tune.search import Outcome, Search
from quanted.core.tune.store import TrialStore, trial_key
from tests.cli import tune_stand_in

QTYPE = "dynamic_fixed_point-i16"
OUTPUT = "@out/out0_0:out0"
TARGET = Target(0.99)
MEETS, MISSES = 0.999, 0.9

Meets = Callable[[frozenset[str]], bool]


def names(n: int) -> list[str]:
    return [f"L{i:03d}" for i in range(n)]


def essential(needed: Iterable[str]) -> Meets:
    wanted = frozenset(needed)
    return lambda raised: wanted <= raised


def budget(errors: dict[str, float], allowed: float) -> Meets:
    return lambda raised: sum(e for layer, e in errors.items() if layer not in raised) <= allowed


def spoiled(needed: Iterable[str], seed: int, everything: Iterable[str]) -> Meets:
    wanted, every = frozenset(needed), frozenset(everything)

    def meets(raised: frozenset[str]) -> bool:
        if not wanted <= raised:
            return False
        digest = hashlib.sha256(f"{seed}:{sorted(raised)}".encode()).digest()
        return raised == every or digest[0] % 4 != 0

    return meets


class MemoryStore(TrialStore):
    """The journal without files (a stand-in: the real one fsyncs every trial)."""

    def __init__(self) -> None:
        super().__init__(Path(tempfile.gettempdir()) / "unused.quantize", "stand-in", {})
        self.raw: dict[str, Trial] = {}
        self.float: Outputs | None = None

    def __len__(self) -> int:
        return len(self.raw)

    def get(self, customized: dict[str, str], phase: str) -> Trial | None:
        trial = self.raw.get(trial_key(customized))
        if trial is None:
            return None
        return Trial(dict(customized), trial.figures, trial.applied, trial.not_applied,
                     trial.seconds, phase, cached=True, notes=list(trial.notes))

    def add(self, trial: Trial) -> None:
        self.raw[trial_key(trial.customized)] = trial

    def float_outputs(self) -> Outputs | None:
        return self.float

    def save_float(self, outputs: Outputs) -> None:
        self.float = outputs


class Answers:
    """An executor answering each trial from `meets`; `asked` lists the sets it ran."""

    def __init__(self, meets: Meets) -> None:
        self.meets = meets
        self.asked: list[str] = []

    def submit(self, fn, spec):
        future: Future = Future()
        if fn is runner.run_float:
            future.set_result({OUTPUT: [tune_stand_in.float_output(0)]})
            return future
        self.asked.append(trial_key(spec.customized))
        cosine = MEETS if self.meets(frozenset(spec.customized)) else MISSES
        future.set_result(runner.TrialOutput(
            spec.customized, {OUTPUT: [tune_stand_in.quantized_output(0, cosine)]}, (), (), 1.0))
        return future


@dataclass
class Replay:
    outcome: Outcome
    plan: Plan
    asked: list[str]
    expected: list[int | None] = field(default_factory=list)  # the plan's total, trial by trial
    rounds: int = 0  # batches of engine runs (with --jobs J, each runs up to J at once)

    @property
    def trials(self) -> int:
        return len(self.outcome.trials)


def replay(candidates: list[str], meets: Meets, jobs: int = 1, search: type[Search] = Search,
           store: TrialStore | None = None, max_trials: int | None = None) -> Replay:
    plan = Plan(list(candidates), "entropy", TARGET, QTYPE, jobs=jobs)
    answers = Answers(meets)
    expected: list[int | None] = []

    def on_event(event) -> None:
        if hasattr(event, "trial"):
            expected.append(event.expected)

    def make_spec(customized: dict[str, str]) -> runner.TrialSpec:
        return runner.TrialSpec(None, customized, [], [], 1)  # type: ignore[arg-type]

    book = Book(store if store is not None else MemoryStore(), make_spec, answers, plan,
                TARGET, on_event, max_trials)
    book._class_outputs = [OUTPUT]  # the stand-in has no model .json: its one output ranks
    rounds = 0
    evaluate = book.evaluate

    def counted(sets, phase):
        nonlocal rounds
        before = len(answers.asked)
        found = evaluate(sets, phase)
        rounds += len(answers.asked) > before
        return found

    book.evaluate = counted  # type: ignore[method-assign]
    try:
        outcome = search(book, plan, {}, on_event).run()
    finally:
        book.close()
    return Replay(outcome, plan, answers.asked, expected, rounds)


def bound(replayed: Replay) -> int:
    """What the search costs at most on a monotone oracle, from where the layers it kept sit
    among the P of the prefix: the bounds and bisection it ran, then per search (from the
    bottom up, each dropping the g layers below a kept one, the last those above the highest)
    at most 2 ceil(log2(g + 1)) + 2 trials when its first group is no larger than g, else
    1 + ceil(log2 s) for a first group of s <= the previous search's g (P at first); and one
    re-measure per kept layer."""
    outcome = replayed.outcome
    before = sum(1 for t in outcome.trials if t.phase in ("bounds", "bisect"))
    prefix = outcome.prefix or 0
    ranked = replayed.plan.candidates[:prefix]
    positions = sorted((ranked.index(m) for m in outcome.layers), reverse=True)
    gaps, last = [], prefix
    for position in positions:
        gaps.append(last - position - 1)
        last = position
    gaps.append(last)
    total, previous = before, prefix
    for gap in gaps:
        total += max(2 * _log2(gap + 1) + 2, 1 + _log2(previous + 1))
        previous = gap
    return total + len(positions)


def _log2(n: int) -> int:
    return math.ceil(math.log2(n)) if n > 1 else 0
