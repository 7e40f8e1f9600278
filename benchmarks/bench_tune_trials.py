"""Trials a `quanted tune` search takes: the pruning by groups against the one-at-a-time
pruning it replaced, replayed on STAND-IN oracles (tests/core/tune_oracles.py: a known
function of the raised set says whether a trial meets the target; no engine).

    python benchmarks/bench_tune_trials.py [--seeds 20]

Both run the same bounds and bisection through the real Search and Book; only the pruning
differs (`OldSearch` below is the earlier one, kept here to compare). Each row is the mean
(and worst) over --seeds oracles of its shape; "rounds J=2" counts the batches of engine runs
with --jobs 2, the wall time in trials when two run at once. The target of issue "Fewer
trials" is about 2 log2 N + 2k trials for N candidates and a final set of k.

Shapes (rank 1 is the highest priority; a set meets iff it raises every layer of E, unless
said otherwise):
- classifier: the issue's 97-layer ImageNet classifier, whose shortest passing prefix was 73
  layers and whose one-at-a-time pruning was still at 17 after 70 trials; E is 17 layers: the
  top t, the 73rd and 16-t spread at random over ranks t+1..72;
- random: E of k layers anywhere among N; top-heavy: E drawn with a rank ~ exponential of mean
  1.5k (a ranking that mostly puts the layers that matter first);
- budget: each layer left plain adds an error (k random layers a large one, the others small
  ones adding up to 1.2 budgets) and a set meets iff the sum stays within the budget: a
  response without one minimal set, where some small layers are needed too.
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
import sys
from collections import deque
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from quanted.core.tune.progress import PhaseStarted  # noqa: E402
from quanted.core.tune.search import FOUND, Outcome, Search  # noqa: E402
from tests.core import tune_oracles as oracles  # noqa: E402

Shape = Callable[[random.Random], tuple[list[str], oracles.Meets]]


class OldSearch(Search):
    """The pruning before groups: drop one member per trial, lowest priority first, in passes
    until a pass drops nothing."""

    def _prune(self, outcome: Outcome) -> bool:
        members = list(self.members)
        self.on_event(PhaseStarted("prune", "one at a time"))
        while True:
            removed = False
            queue = deque(reversed(members))
            while queue:
                batch: list[str] = []
                while queue and len(batch) < self.plan.jobs:
                    member = queue.popleft()
                    known = self.book.known(self._without(members, member), "prune")
                    if known is None:
                        batch.append(member)
                    elif known.meets(self.target):
                        members.remove(member)
                        removed = True
                if not batch:
                    break
                trials = self.book.evaluate([self._without(members, m) for m in batch], "prune")
                for index, (member, trial) in enumerate(zip(batch, trials)):
                    if trial is None:
                        return self._budget(outcome, members)
                    if trial.meets(self.target):
                        members.remove(member)
                        removed = True
                        queue.extendleft(reversed(batch[index + 1:]))
                        break
            if not removed:
                break
        outcome.met, outcome.customized, outcome.minimal = True, self.raised(members), True
        outcome.reason = FOUND
        return True

    def _without(self, members: list[str], member: str) -> dict[str, str]:
        return self.raised([m for m in members if m != member])


def classifier(top: int) -> Shape:
    def make(rng: random.Random) -> tuple[list[str], oracles.Meets]:
        layers = oracles.names(97)
        spread = rng.sample(range(top, 72), 16 - top)
        needed = [layers[i] for i in [*range(top), *spread, 72]]
        return layers, oracles.essential(needed)
    return make


def uniform(n: int, k: int) -> Shape:
    def make(rng: random.Random) -> tuple[list[str], oracles.Meets]:
        layers = oracles.names(n)
        return layers, oracles.essential(rng.sample(layers, k))
    return make


def top_heavy(n: int, k: int) -> Shape:
    def make(rng: random.Random) -> tuple[list[str], oracles.Meets]:
        layers = oracles.names(n)
        ranks: set[int] = set()
        while len(ranks) < k:
            ranks.add(min(n - 1, int(rng.expovariate(1 / (1.5 * k)))))
        return layers, oracles.essential(layers[i] for i in ranks)
    return make


def budget(n: int, k: int) -> Shape:
    def make(rng: random.Random) -> tuple[list[str], oracles.Meets]:
        layers, allowed = oracles.names(n), 0.05
        large = set(rng.sample(layers, k))
        small = 2 * 1.2 * allowed / (n - k)  # the small errors add up to 1.2 budgets
        errors = {layer: rng.uniform(0.02, 0.2) if layer in large else rng.uniform(0, small)
                  for layer in layers}
        return layers, oracles.budget(errors, allowed)
    return make


SHAPES: list[tuple[str, Shape]] = [
    ("classifier, top 16 + the 73rd", classifier(16)),
    ("classifier, top 14 + 2 spread", classifier(14)),
    ("classifier, top 10 + 6 spread", classifier(10)),
    ("classifier, top 7 + 9 spread", classifier(7)),
    ("top-heavy N=37 k=1", top_heavy(37, 1)),
    ("top-heavy N=100 k=5", top_heavy(100, 5)),
    ("top-heavy N=100 k=17", top_heavy(100, 17)),
    ("top-heavy N=200 k=30", top_heavy(200, 30)),
    ("random N=100 k=10", uniform(100, 10)),
    ("random N=200 k=30", uniform(200, 30)),
    ("budget N=97, 17 large", budget(97, 17)),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20)
    args = parser.parse_args()
    head = (f"{'shape':<32} {'N':>4} {'P':>4} {'k':>5} {'old':>11} {'new':>11} "
            f"{'new/old':>7} {'rounds J=2':>10} {'2log2N+2k':>9}")
    print(head)
    print("-" * len(head))
    totals: dict[str, list[float]] = {"old": [], "new": []}
    for label, shape in SHAPES:
        rows: dict[str, list[float]] = {"old": [], "new": [], "rounds": [], "P": [], "k": []}
        for seed in range(args.seeds):
            layers, meets = shape(random.Random(seed))
            old = oracles.replay(layers, meets, search=OldSearch)
            new = oracles.replay(layers, meets)
            assert new.outcome.reason == old.outcome.reason
            rows["old"].append(old.trials)
            rows["new"].append(new.trials)
            rows["rounds"].append(oracles.replay(layers, meets, jobs=2).rounds)
            rows["P"].append(new.outcome.prefix or 0)
            rows["k"].append(len(new.outcome.layers))
        n, k = len(layers), statistics.mean(rows["k"])
        totals["old"] += rows["old"]
        totals["new"] += rows["new"]

        def cell(values: list[float]) -> str:
            return f"{statistics.mean(values):5.1f} ({max(values):3.0f})"

        print(f"{label:<32} {n:4d} {statistics.mean(rows['P']):4.0f} {k:5.1f} "
              f"{cell(rows['old'])} {cell(rows['new'])} "
              f"{sum(rows['new']) / sum(rows['old']):7.2f} {statistics.mean(rows['rounds']):10.1f} "
              f"{2 * math.log2(n) + 2 * k:9.0f}")
    print(f"\nall shapes: {sum(totals['new']) / sum(totals['old']):.2f} of the old trials "
          f"(mean (worst) over {args.seeds} oracles per shape)")


if __name__ == "__main__":
    main()
