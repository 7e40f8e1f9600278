"""`quanted tune`, Textual-free, for the CLI and the editor alike, as every engine step
(the contract: engine/step.py):

    the_plan = plan(doc, Options(target=Target(0.99), jobs=2))    # reads files, runs nothing
    the_plan.setup.plan.lines()                                   # what --dry-run prints
                                                                  # (setup None: no plain table)
    outcome = run(the_plan, Events(progress=on_event), cancel)    # the trials
    applied = apply(the_plan.setup, outcome, on_event, on_line)   # edit + hybrid + verify

`search` never writes the user's file or folder except `.quanted/tune/` (the recorded trials)
and, for `--rank drop` with no current analysis, `.quanted/analysis/` (the one it runs);
`apply` makes the found set the file's customized list, runs the hybrid quantize there and
verifies it. `executor=` takes any object with `submit()` (see book.Executor); by default a
ThreadPoolExecutor with `jobs` workers."""

from __future__ import annotations

import math
import shutil
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from quanted.core.format import qtypes
from quanted.core.document.model import QuantizeDocument
from quanted.core.engine import analysis, baseline
from quanted.core.engine import command as cmd
from quanted.core.engine.discovery import find_pegasus
from quanted.core.engine.step import Cancel, Events
from quanted.core.errors import EditError, QuantedError
from quanted.core.tune import rank, runner, scratch
from quanted.core.tune.book import Book, Executor
from quanted.core.tune.figures import Target
from quanted.core.engine.output_figures import resolve_name
from quanted.core.engine.outputs import model_io
from quanted.core.tune.progress import Event, Note, PhaseStarted, Plan
from quanted.core.tune.search import Outcome, Search
from quanted.core.tune.store import TrialStore


@dataclass
class Options:
    target: Target = field(default_factory=Target)
    iterations: int | None = None  # inputs measured; default: all in the dataset listing
    qtype: str = qtypes.DEFAULT_QTYPE
    rank: str | None = None  # rank.ENTROPY, rank.DROP, or None (drop when cached)
    max_trials: int | None = None
    jobs: int = 1
    pegasus: str | None = None
    then_apply: bool = False  # the found set is applied, run and verified after (the CLI)


@dataclass
class Setup:
    quantize: Path
    options: Options
    doc: QuantizeDocument  # the file as the tune found it
    base: baseline.Base  # the plain file and calibration every trial starts from
    inputs: scratch.Inputs
    ranking: rank.Ranking
    plan: Plan
    current: dict[str, str]  # the file's customized list
    store: TrialStore
    pegasus: list[str]
    command: list[str]  # the hybrid quantize command of every trial and of the final run
    iterations: int
    book: Book | None = None

    @property
    def recorded(self) -> int:
        """Trials already in .quanted/tune/ for these inputs (reused, not rerun)."""
        return len(self.store)


@dataclass
class TunePlan:
    """What `run` will do. `setup` is None when the file's table is raised and no plain table
    of it is known (`why`): `run` rebuilds one first (one engine run), then fills it in."""

    doc: QuantizeDocument
    options: Options
    setup: Setup | None
    why: str = ""


def _check(options: Options) -> None:
    target = options.target
    if not (math.isfinite(target.cosine) and -1.0 <= target.cosine <= 1.0):
        raise EditError(f"--target-cosine must be between -1 and 1, not {target.cosine}")
    for name, value in (("--iterations", options.iterations), ("--jobs", options.jobs),
                        ("--max-trials", options.max_trials)):
        if value is not None and value < 1:
            raise EditError(f"{name} must be at least 1, not {value}")
    if not qtypes.is_known(options.qtype):
        raise EditError(f"unknown qtype {options.qtype!r} (known: "
                        f"{', '.join(qtypes.KNOWN_QTYPES)})")
    if options.rank not in (None, rank.ENTROPY, rank.DROP):
        raise EditError(f"--rank must be {rank.ENTROPY} or {rank.DROP}, not {options.rank!r}")


def _check_names(target: Target, model: Path) -> None:
    """Every NAME of --target-cosine NAME=C names a model output, before any trial."""
    if not target.outputs:
        return
    outputs, _ = model_io(model)
    for name, _ in target.outputs:
        try:
            resolve_name(name, outputs)
        except ValueError as exc:
            raise cmd.CommandError(f"--target-cosine: {exc}") from None


class NoBase(QuantedError):
    """The file's table is raised and no plain table of it is known: `plan` says so (its
    setup is None) and `run` rebuilds one (an engine run) before planning."""


def plan(doc: QuantizeDocument, options: Options) -> TunePlan:
    """The tune of the open file (as it is on disk: an editor saves first); runs no engine and
    writes nothing."""
    try:
        return TunePlan(doc, options, _prepare(doc, options))
    except NoBase as exc:
        return TunePlan(doc, options, None, exc.message)


def run(the_plan: TunePlan, events: Events[Event] = Events(), cancel: Cancel | None = None,
        *, executor: Executor | None = None) -> Outcome:
    """The search (the contract: engine/step.py), after rebuilding the plain table when none
    is known (a Note says so; `the_plan.setup` is then filled in). Raises
    runner.TuneCancelled (a StepCancelled) on cancel or ctrl+c, runner.TrialFailed,
    AnalysisFailed or RebuildFailed (StepFailed) when an engine run fails."""
    cancel = cancel or Cancel()
    if the_plan.setup is None:
        from quanted.core.engine.rebuild_base import rebuild

        events.progress(Note(f"{the_plan.why}; rebuilding the plain table in a scratch folder "
                             "(one pegasus quantize --rebuild run with the inferred "
                             "calibration)"))
        assert the_plan.doc.path is not None
        rebuild(the_plan.doc.path, the_plan.options.pegasus, cancel=cancel)
        the_plan.setup = prepare(the_plan.doc.path, the_plan.options)
    return search(the_plan.setup, events.progress, executor, cancel)


def prepare(quantize: Path, options: Options) -> Setup:
    """Read everything a tune needs and plan it; runs no engine and writes nothing."""
    return _prepare(QuantizeDocument.open(quantize), options)


def _prepare(doc: QuantizeDocument, options: Options) -> Setup:
    _check(options)
    if doc.path is None:
        raise EditError("the document has no file: a tune reads the file from disk")
    quantize = doc.path.absolute()
    found = baseline.find(quantize, doc, remember=False)
    if found.base is None:
        raise NoBase(" ".join(found.notes), quantize)
    inputs = scratch.gather(quantize, found.base)
    _check_names(options.target, inputs.files.model)
    pegasus = find_pegasus(options.pegasus)
    iterations = options.iterations or cmd.dataset_size(inputs.files.inputmeta) or 1
    ranking = _rank(quantize, doc, found.base, options.rank, inputs.files.model)
    if not ranking.layers:
        raise QuantedError("the file has no layer with an output tensor to raise", quantize)
    context = scratch.context_key(inputs, iterations)
    about = {"file": str(quantize), "iterations": iterations,
             "model": str(inputs.files.model), "note": "trials of `quanted tune`; "
             "safe to delete (they are only reused, never trusted over a changed input)"}
    plan = Plan(list(ranking.layers), ranking.how, options.target, options.qtype,
                jobs=options.jobs, companions=ranking.companions,
                analysis_runs=rank.analysis_runs(doc) if ranking.pending else 0)
    plan.then_apply = options.then_apply
    plan.notes.extend(found.notes)
    plan.configuration = found.base.describe()
    plan.count_bounds(doc.customized)
    return Setup(quantize, options, doc, found.base, inputs, ranking, plan, doc.customized,
                 TrialStore(quantize, context, about), pegasus,
                 runner.hybrid_command(inputs, pegasus), iterations)


def search(setup: Setup, on_event: Callable[[Event], None] = lambda event: None,
           executor: Executor | None = None, cancel: Cancel | None = None) -> Outcome:
    """Run the phases (`run` once the setup is known). Raises runner.TuneCancelled (130) on
    cancel or ctrl+c, runner.TrialFailed (the engine's status) when an engine run fails."""
    cancel = cancel or Cancel()

    def make_spec(customized: dict[str, str]) -> runner.TrialSpec:
        return runner.TrialSpec(setup.inputs, customized, setup.pegasus, setup.command,
                                setup.iterations)

    # The base is kept in .quanted/base/ once trials run: a later hybrid run, verify or tune
    # starts from this same plain table even when the file no longer is it.
    baseline.find(setup.quantize, setup.doc)
    pool: ThreadPoolExecutor | None = None
    if executor is None:
        pool = executor = ThreadPoolExecutor(max_workers=setup.options.jobs,
                                             thread_name_prefix="quanted-tune")
    book = Book(setup.store, make_spec, executor, setup.plan, setup.options.target,
                on_event, setup.options.max_trials)
    setup.book = book
    cancel.on_cancel(book.cancel)
    rerank = (lambda: _rank_by_analysis(setup, on_event, cancel)) if setup.ranking.pending \
        else None
    try:
        return Search(book, setup.plan, setup.current, on_event, rerank).run()
    except BaseException as exc:
        # Stop the engine runs still going before waiting for their threads: ctrl+c can land
        # anywhere in this thread (printing progress, between a submit and the wait), not only
        # in Book._wait, which cancels them itself; a shutdown that waited on an engine nobody
        # stopped would never return.
        book.cancel()
        if isinstance(exc, KeyboardInterrupt):
            raise runner.TuneCancelled("tune cancelled (ctrl+c); the trials measured so far "
                                       f"are kept in {setup.store.folder}",
                                       setup.quantize) from None
        raise
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
        book.close()


def _rank(quantize: Path, doc: QuantizeDocument, base: baseline.Base, how: str | None,
          model: Path) -> rank.Ranking:
    """The candidates of the plain model, ranked by what was measured of it: its entropy
    report (kept with the base) and an analysis made while the file was plain. An analysis or
    report of the file as it is now describes another model once a hybrid run raised layers,
    and a second tune would rank, and so search, differently."""
    plain_doc = QuantizeDocument(base.data, quantize)
    if baseline.is_plain(doc, base.calibration.plain):
        return rank.rank(plain_doc, how, model, report=base.entropy)
    from quanted.core.engine import analysis as analysis_mod

    found = analysis_mod.load_of_base(quantize, base.path)
    return rank.rank(plain_doc, how, model, drop=rank.drops(found) if found else None,
                     report=base.entropy, cached=False)


def _rank_by_analysis(setup: Setup, on_event: Callable[[Event], None], cancel: Cancel
                      ) -> tuple[list[str], dict[str, tuple[str, ...]]]:
    """Run the analysis `--rank drop` waits on (cached like `quanted analyze`'s, which then
    reuses it), rank by its drop, and make that the setup's ranking."""
    runs = setup.plan.analysis_runs or rank.analysis_runs(setup.doc)
    on_event(PhaseStarted("ranking", f"analysing {len(setup.doc.layer_ids)} layers "
                                     f"({runs} engine run{'s' if runs > 1 else ''}) to rank "
                                     "the candidates by drop"))

    def progress(p: analysis.Progress) -> None:
        if p.input == 0:
            on_event(Note(f"[ranking] analysis run {p.run} of {p.runs}: {p.title}"))

    plain_now = baseline.is_plain(setup.doc, setup.base.calibration.plain)
    # The plain model is what is ranked: the file itself while it is plain (the analysis is
    # then cached for `quanted analyze`), else the base in a scratch folder (not cached).
    target = setup.quantize if plain_now else scratch.make(setup.inputs, setup.doc.customized)
    try:
        found = analysis.run(analysis.plan(QuantizeDocument.open(target),
                                           pegasus=setup.options.pegasus),
                             Events(progress=progress), cancel, use_cache=plain_now)
    except analysis.AnalysisCancelled:
        raise runner.TuneCancelled("tune cancelled during the analysis that ranks by drop",
                                   setup.quantize) from None
    finally:
        if not plain_now:
            shutil.rmtree(target.parent, ignore_errors=True)
    setup.ranking = rank.rank(QuantizeDocument(setup.base.data, setup.quantize), rank.DROP,
                              setup.inputs.files.model, drop=rank.drops(found),
                              report=setup.base.entropy)
    on_event(Note(f"[ranking] by drop (analysis kept in .quanted/analysis/): "
                  f"{', '.join(setup.ranking.layers[:3])}, ..."))
    return list(setup.ranking.layers), dict(setup.ranking.companions)
