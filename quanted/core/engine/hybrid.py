"""The --hybrid rerun, made safe: check first, keep a copy, start from the plain table,
stream the log, find the per-layer failures pegasus only logs, restore the file when the run
broke it, and put the user's comments back when it succeeded.

Past 400 lines: one step, plan to result; its parts only make sense in this order."""

from __future__ import annotations

import os
import shlex
import shutil
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from weakref import WeakKeyDictionary

from quanted.core.document import comments as comment_carry
from quanted.core.state import recovery
from quanted.core.document.model import QuantizeDocument
from quanted.core.engine import baseline
from quanted.core.engine import command as cmd
from quanted.core.engine.discovery import EngineNotFound, find_pegasus
from quanted.core.engine.logscan import Failure, scan_line
from quanted.core.engine.process import EngineProcess, SignalGuard, follow_marked
from quanted.core.engine.step import Cancel, StepRun, Events, StepCancelled, StepFailed
from quanted.core.engine.report import HybridReport, Snapshot, compare
from quanted.core.format.entropy import ENGINE_WRITES
from quanted.core.errors import EditError, QuantedError
from quanted.core.disk.files import locked
from quanted.core.disk.saving import atomic_write
from quanted.core.state.history import History
from quanted.core.format.validate import ERROR, Problem, check

TAIL_LINES = 20


@dataclass
class HybridPlan:
    """What `run` will do: the command, in the file's folder, and the check's problems."""

    doc: QuantizeDocument  # the file as planned; `run` reads it again only if it changed
    quantize: Path  # absolute
    command: list[str]
    problems: list[Problem]
    # The plain table the run starts from (baseline.py); None: the table as it is.
    base: baseline.Base | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def cwd(self) -> Path:
        return self.quantize.parent

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == ERROR]


@dataclass
class Draft:
    """The command an editor offers before the user edits it."""

    text: str  # the command line; "" when it cannot be built
    problems: list[Problem] = field(default_factory=list)
    message: str | None = None  # why the command is not ready (pegasus not found, ...)


@dataclass
class HybridResult:
    status: int  # what `quanted hybrid` exits with
    engine_status: int | None
    failures: list[Failure] = field(default_factory=list)
    cancelled: bool = False
    signal: int | None = None  # SIGTERM/SIGHUP that stopped the run
    restored: str | None = None  # why the user's file was put back, if it was
    backup: Path | None = None
    comments_carried: int = 0
    report: HybridReport | None = None
    started_from_base: bool = False  # the table was put back to the plain one first
    suggested: dict[str, str] = field(default_factory=dict)  # entries the engine appended
    applied: dict[str, str] = field(default_factory=dict)  # what the table raises after
    difference: baseline.Difference | None = None  # the list against `applied`

    def configuration_lines(self) -> list[str]:
        """What the run built, against the list it was given."""
        out = []
        if self.started_from_base:
            out.append("started from the plain table (layers an earlier run raised and the "
                       "list no longer names were put back to the plain quantization)")
        if self.suggested:
            out.append(f"the engine appended {len(self.suggested)} layer(s) of its own to the "
                       "list and did not apply them; removed from the list, its suggestion: "
                       + ", ".join(self.suggested))
        if self.difference is not None and self.difference.not_applied:
            out.append(f"listed but not applied in quantize_parameters "
                       f"({len(self.difference.not_applied)}): "
                       + ", ".join(self.difference.not_applied))
        if self.difference is not None and self.difference.not_listed:
            out.append(f"raised in quantize_parameters but not listed "
                       f"({len(self.difference.not_listed)}): "
                       + ", ".join(self.difference.not_listed))
        if self.difference is not None and self.difference.same:
            out.append(f"quantize_parameters applies exactly the list ({len(self.applied)} "
                       "layer(s) raised)")
        return out

    def to_json(self) -> dict:
        return {
            "status": self.status,
            "engine_status": self.engine_status,
            "cancelled": self.cancelled,
            "signal": self.signal,
            "restored": self.restored,
            "backup": str(self.backup) if self.backup else None,
            "failures": [
                {"kind": f.kind, "layer": f.layer, "qtype": f.qtype, "message": f.message}
                for f in self.failures
            ],
            "comments_carried": self.comments_carried,
            "report": self.report.to_json() if self.report else None,
            "started_from_base": self.started_from_base,
            "engine_suggested": self.suggested,
            "applied": self.applied,
            "not_applied": list(self.difference.not_applied) if self.difference else [],
            "raised_not_listed": list(self.difference.not_listed) if self.difference else [],
        }


# check() takes seconds on a 15 MB file; an editor drafts and then plans the same document.
_checked: WeakKeyDictionary[QuantizeDocument, tuple[object, bytes, list[Problem]]] = \
    WeakKeyDictionary()


def _check(doc: QuantizeDocument) -> list[Problem]:
    """check(doc), once per state of the document (its block and its bytes)."""
    state, data = doc.block_state, doc.data
    known = _checked.get(doc)
    if known is not None and known[0] is state and known[1] is data:
        return list(known[2])
    problems = check(doc)
    _checked[doc] = (state, data, problems)
    return list(problems)


def _path(doc: QuantizeDocument) -> Path:
    if doc.path is None:
        raise EditError("the document has no file: pegasus reads the file from disk")
    return doc.path.absolute()


def draft(doc: QuantizeDocument) -> Draft:
    """The zero-config command, or as much of it as can be built, and the check's problems."""
    path = _path(doc)
    problems = _check(doc)
    try:
        args, _ = zero_config(path, doc, remember=False)
    except QuantedError as exc:
        return Draft("", problems, f"{exc.message}. Paste the `pegasus quantize ... --rebuild` "
                                   "line pegasus_quantize.sh printed, then press enter.")
    try:
        prefix = find_pegasus(None)
    except EngineNotFound as exc:
        return Draft(cmd.quoted(["pegasus", *args]), problems,
                     f"{exc.message}. Or write the full pegasus command in the command line.")
    return Draft(cmd.quoted(prefix + args), problems)


def plan(
    doc: QuantizeDocument,
    text: str | None = None,
    *,
    pegasus: str | None = None,
    from_command: str | None = None,
    iterations: int | None = None,
    from_base: bool = True,
) -> HybridPlan:
    """The exact command and the check's problems, without running anything.

    `text`: a command line as a person left it (the editor's): a printed `--rebuild` line is
    read as `from_command`, anything else runs as written. `from_command`: the line
    pegasus_quantize.sh printed (--rebuild becomes --hybrid; its flags become the file's
    recorded calibration). Neither: the zero-config command; `iterations` applies to it only
    (a printed command keeps its own). Every run starts from the file's plain table (see
    baseline.py) unless `from_base` is False (a tune trial's file is that table already)."""
    quantize = _path(doc)
    if text is not None:
        # Typed in an editor: a program that does not exist is said before anything runs.
        words = _words(text)
        if any(word in cmd.REBUILD_FLAGS for word in words):
            printed = plan(doc, from_command=text, from_base=from_base)
            _runnable(printed.command, quantize.parent)
            return printed
        found = baseline.find(quantize, doc, remember=False) if from_base \
            else baseline.Found(None)
        return HybridPlan(doc, quantize, _runnable(words, quantize.parent), _check(doc),
                          found.base, list(found.notes))
    if from_command is not None:
        prefix, args = cmd.from_printed_command(from_command, quantize)
        if pegasus is not None or not prefix:
            prefix = find_pegasus(pegasus)
        found = baseline.find(quantize, doc, baseline.Calibration.from_args(
            args, "the --rebuild line given to `quanted hybrid --from-command`"),
            remember=False) if from_base else baseline.Found(None)
    else:
        args, found = zero_config(quantize, doc, iterations, remember=False)
        prefix = find_pegasus(pegasus)
    return HybridPlan(doc, quantize, prefix + args, _check(doc), found.base, list(found.notes))


def zero_config(quantize: Path, doc: QuantizeDocument, iterations: int | None = None,
                remember: bool = True) -> tuple[list[str], baseline.Found]:
    """The --hybrid arguments of the file's calibration (kept with its base, else inferred),
    and the base the run starts from."""
    found = baseline.find(quantize, doc, remember=remember)
    files = cmd.model_files(quantize)
    calibration = found.base.calibration if found.base is not None else \
        baseline.infer(doc, files)
    if iterations is not None:
        calibration = calibration.with_iterations(iterations)
    return calibration.hybrid_args(quantize, files), found


def _words(text: str) -> list[str]:
    try:
        words = shlex.split(text)
    except ValueError as exc:
        raise cmd.CommandError(f"cannot split the command line: {exc}") from None
    if not words:
        raise cmd.CommandError("the command line is empty: write the pegasus command")
    return words


def _runnable(command: list[str], cwd: Path) -> list[str]:
    """The command, once its program is known to exist (relative paths from `cwd`)."""
    program = command[0]
    if "/" in program:
        target = cwd / program
        found = target.is_file() and os.access(target, os.X_OK)
    else:
        found = shutil.which(program) is not None
    if not found:
        raise EngineNotFound(f"cannot run {program!r}: no such program (set QUANTED_PEGASUS, "
                             "put pegasus on PATH, or write its full path)")
    return command


def _restore(backup: Path, target: Path, lock: bool = True) -> None:
    atomic_write(target, backup.read_bytes(), force=True, lock=lock)


def _reopen(path: Path) -> tuple[QuantizeDocument | None, str | None]:
    """The file the engine left, or why it is unusable."""
    try:
        return QuantizeDocument.open(path), None
    except QuantedError as exc:
        return None, exc.message


def _name_layers(failures: list[Failure], the_plan: HybridPlan) -> list[Failure]:
    """pegasus's converter error names no layer; the check already knows which entries are
    wrong (unknown layer ids, unknown qtypes)."""
    unknown = list(dict.fromkeys(p.layer for p in the_plan.errors if p.layer))
    named: list[Failure] = []
    for failure in failures:
        if failure.kind == "converter-error" and failure.layer is None and unknown:
            named.extend(Failure(failure.kind, failure.message, layer) for layer in unknown)
        else:
            named.append(failure)
    return named


def run(
    the_plan: HybridPlan,
    events: Events[None] = Events(),
    cancel: Cancel | None = None,
    *,
    force: bool = False,
) -> HybridResult:
    """Run the plan (the contract: engine/step.py). `events.line` gets every log line (with
    its colours) as it comes; `cancel` stops it from another thread. A run that broke the
    file raises StepFailed, a cancelled one StepCancelled; either has restored the file and
    carries the HybridResult that says so. Check errors refuse the run unless `force`.

    The file's lock is held for the whole run (no other quanted writes it meanwhile), and an
    in-progress marker in `.quanted/` covers the time the engine may leave it half written.
    SIGTERM and SIGHUP (in the main thread) stop the run like ctrl+c: restored, recorded,
    status 128+n."""
    quantize = the_plan.quantize
    if the_plan.errors and not force:
        details = "; ".join(p.message for p in the_plan.errors)
        raise EditError(f"refusing to run pegasus: {details} (--force runs it anyway)", quantize)
    guard = SignalGuard()
    tail: deque[str] = deque(maxlen=TAIL_LINES)
    with locked(quantize), guard.installed():
        recovery.refuse_if_interrupted(quantize)
        result = _run_locked(the_plan, events, cancel or Cancel(), guard, tail)
        if result.signal is None and guard.received is not None:
            result.signal = guard.received  # arrived after the run: finish, then honour it
            result.status = 128 + guard.received
    if result.cancelled:
        raise StepCancelled(result.restored or "the run was cancelled", quantize,
                            result=result, signal=result.signal)
    if result.restored is not None:
        raise StepFailed(result.restored, result.status, list(tail),
                         StepRun("pegasus quantize --hybrid", the_plan.command), quantize,
                         result)
    return result


def _run_locked(
    the_plan: HybridPlan,
    events: Events[None],
    cancel: Cancel,
    guard: SignalGuard,
    tail: deque[str],
) -> HybridResult:
    quantize = the_plan.quantize
    doc = the_plan.doc
    if doc.is_modified or doc.changed_on_disk():
        doc = QuantizeDocument.open(quantize)  # pegasus reads the file as it is on disk
    customized = doc.customized
    before = Snapshot.take(quantize, doc)
    user_comments = comment_carry.collect(doc.block_state)
    history = History(quantize)
    backup = history.save_copy("before-hybrid",
                               {"customized": customized, "command": the_plan.command})
    started = _start_from_base(the_plan, doc)
    entropy = quantize.parent / ENGINE_WRITES  # the engine rewrites it in its working directory
    entropy_backup = None
    if entropy.is_file():
        entropy_backup = history.save_copy("entropy-before-hybrid", source=entropy)

    process = EngineProcess(the_plan.command, the_plan.cwd, guard=guard)
    result = HybridResult(status=0, engine_status=None, backup=backup,
                          started_from_base=started)
    recovery.mark(quantize, "hybrid", backup, entropy_backup, the_plan.command)

    def handle(line: str) -> None:
        tail.append(line)
        events.line(line)
        failure = scan_line(line, customized)
        if failure is not None:
            result.failures.append(failure)

    result.engine_status = follow_marked(process, quantize, handle, cancel)
    result.signal = process.signal
    result.cancelled = process.cancelled.is_set()
    result.failures = _name_layers(result.failures, the_plan)

    broken = None
    after: QuantizeDocument | None = None
    if result.cancelled:
        broken = "the run was cancelled"
        if result.signal is not None:
            broken = f"the run was stopped by {_signal_name(result.signal)}"
    elif result.engine_status != 0:
        broken = f"pegasus exited with status {result.engine_status}"
    else:
        after, unreadable = _reopen(quantize)
        if unreadable is not None:
            broken = f"pegasus left {quantize.name} unusable ({unreadable})"
    if broken is not None or after is None:
        _restore(backup, quantize)
        if entropy_backup is not None:
            _restore(entropy_backup, entropy, lock=False)
        result.restored = f"{broken}; restored {quantize.name} from {backup}"
        result.status = result.engine_status if result.engine_status not in (0, None) else 1
        if result.status < 0:  # killed by signal N: the shell's 128+N, not 256-N
            result.status = 128 - result.status
        if result.cancelled:
            result.status = 128 + result.signal if result.signal is not None else 130
            history.record("hybrid-cancelled", {"customized": customized,
                                                "signal": result.signal,
                                                "engine_status": result.engine_status})
        recovery.clear(quantize)
        return result

    result.suggested = _drop_suggestions(after, customized)
    result.comments_carried = comment_carry.carry_over(user_comments, after)
    if after.is_modified:
        after.save(force=True)
    result.applied = baseline.applied(
        after, the_plan.base.calibration.plain if the_plan.base is not None else None)
    result.difference = baseline.difference(customized, result.applied)
    recovery.clear(quantize)
    try:
        original_model: Path | None = cmd.model_files(quantize).model
    except QuantedError:
        original_model = None  # --from-command with other file names
    result.report = compare(before, Snapshot.take(quantize, after), original_model)
    # The block as the user ran it (comments included): `quanted restore` gives it back.
    # `customized_after`: the list the run left (the engine may append entries), which an
    # export compares the file's list with (export_stale.py).
    history.record("hybrid", {"customized": customized, "block": doc.block_text(),
                              "customized_after": after.customized,
                              "engine_suggested": result.suggested,
                              "applied": result.applied,
                              "base": the_plan.base.key if the_plan.base else None,
                              "failures": len(result.failures),
                              "engine_status": result.engine_status})
    result.status = 1 if result.failures else 0
    return result


def _start_from_base(the_plan: HybridPlan, doc: QuantizeDocument) -> bool:
    """Put the plain table under the user's list before the engine reads the file: a
    --hybrid run keeps every tensor an earlier run raised (measured: docs/format.md section 10), so
    without this the model built would not be "the plain model with this list". The
    history copy just taken gives the file back if the run fails."""
    base = the_plan.base
    if base is None:
        return False
    baseline.persist(base)  # found at plan time, kept once a run uses it
    spliced = baseline.splice_block(base.data, doc)
    if spliced == doc.data:
        return False
    atomic_write(the_plan.quantize, spliced, force=True, lock=False)
    return True


def _drop_suggestions(after: QuantizeDocument, ran: dict[str, str]) -> dict[str, str]:
    """Remove the entries the engine appended to the list (with --compute-entropy it writes
    its own suggestions back, and does not apply them in that run: measured), so the file's
    list stays the one that was applied; they are reported as the engine's suggestion."""
    extra = {layer: q for layer, q in after.customized.items() if layer not in ran}
    if extra:
        with after.batch():
            for layer in extra:
                after.remove_layer(layer)
    return extra


def _signal_name(signum: int) -> str:
    import signal

    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"
