"""The --hybrid rerun, made safe: check first, keep a copy, stream the log, find the
per-layer failures pegasus only logs, restore the file when the run broke it, and put the
user's comments back when it succeeded."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from quanted.core import comments as comment_carry
from quanted.core import recovery
from quanted.core.document import QuantizeDocument
from quanted.core.engine import command as cmd
from quanted.core.engine.discovery import find_pegasus
from quanted.core.engine.logscan import Failure, scan_line
from quanted.core.engine.process import EngineProcess, SignalGuard
from quanted.core.engine.report import HybridReport, Snapshot, compare
from quanted.core.errors import EditError, QuantedError
from quanted.core.files import atomic_write, locked
from quanted.core.history import History
from quanted.core.validate import ERROR, Problem, check


@dataclass
class HybridPlan:
    quantize: Path
    command: list[str]
    problems: list[Problem]

    @property
    def cwd(self) -> Path:
        return self.quantize.parent

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == ERROR]


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
        }


def plan(
    quantize: Path,
    pegasus: str | None = None,
    from_command: str | None = None,
    iterations: int | None = None,
) -> HybridPlan:
    """The exact command and the check results, without running anything.

    `iterations` applies to the zero-config command (a printed command keeps its own)."""
    quantize = quantize.absolute()
    doc = QuantizeDocument.open(quantize)
    if from_command is not None:
        prefix, args = cmd.from_printed_command(from_command, quantize)
        if pegasus is not None or not prefix:
            prefix = find_pegasus(pegasus)
    else:
        args = cmd.hybrid_args(quantize, doc, iterations)
        prefix = find_pegasus(pegasus)
    return HybridPlan(quantize, prefix + args, check(doc))


def _restore(backup: Path, target: Path) -> None:
    atomic_write(target, backup.read_bytes(), force=True)


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
    on_line: Callable[[str], None] = lambda line: None,
    *,
    force: bool = False,
    process_ready: Callable[[EngineProcess], None] = lambda proc: None,
) -> HybridResult:
    """Run the plan. `on_line` gets every log line (with its colours) as it comes;
    `process_ready` gets the process, so another thread can cancel it.

    The file's lock is held for the whole run (no other quanted writes it meanwhile), and an
    in-progress marker in `.quanted/` covers the time the engine may leave it half written.
    SIGTERM and SIGHUP (in the main thread) stop the run like ctrl+c: restored, recorded,
    status 128+n."""
    quantize = the_plan.quantize
    if the_plan.errors and not force:
        details = "; ".join(p.message for p in the_plan.errors)
        raise EditError(f"refusing to run pegasus: {details} (--force runs it anyway)", quantize)
    guard = SignalGuard()
    with locked(quantize), guard.installed():
        recovery.refuse_if_interrupted(quantize)
        result = _run_locked(the_plan, on_line, process_ready, guard)
        if result.signal is None and guard.received is not None:
            result.signal = guard.received  # arrived after the run: finish, then honour it
            result.status = 128 + guard.received
        return result


def _run_locked(
    the_plan: HybridPlan,
    on_line: Callable[[str], None],
    process_ready: Callable[[EngineProcess], None],
    guard: SignalGuard,
) -> HybridResult:
    quantize = the_plan.quantize
    doc = QuantizeDocument.open(quantize)
    customized = doc.customized
    before = Snapshot.take(quantize, doc)
    user_comments = comment_carry.collect(doc.block_state)
    history = History(quantize)
    backup = history.save_copy("before-hybrid", {"customized": customized, "command": the_plan.command})
    entropy = quantize.parent / "entropy.txt"
    entropy_backup = None
    if entropy.is_file():
        entropy_backup = history.save_copy("entropy-before-hybrid", source=entropy)

    process = EngineProcess(the_plan.command, the_plan.cwd, guard=guard)
    result = HybridResult(status=0, engine_status=None, backup=backup)
    recovery.mark(quantize, "hybrid", backup, entropy_backup, the_plan.command)
    try:
        process.start()
    except BaseException:
        recovery.clear(quantize)
        raise
    process_ready(process)

    def handle(line: str) -> None:
        on_line(line)
        failure = scan_line(line, customized)
        if failure is not None:
            result.failures.append(failure)

    try:
        result.engine_status = process.follow(handle)
    finally:
        process.kill_group()  # its workers must not outlive it and write on
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
            _restore(entropy_backup, entropy)
        result.restored = f"{broken}; restored {quantize.name} from {backup}"
        result.status = result.engine_status if result.engine_status not in (0, None) else 1
        if result.cancelled:
            result.status = 128 + result.signal if result.signal is not None else 130
            history.record("hybrid-cancelled", {"customized": customized,
                                                "signal": result.signal,
                                                "engine_status": result.engine_status})
        recovery.clear(quantize)
        return result

    result.comments_carried = comment_carry.carry_over(user_comments, after)
    if after.is_modified:
        after.save(force=True)
    recovery.clear(quantize)
    try:
        original_model: Path | None = cmd.model_files(quantize).model
    except QuantedError:
        original_model = None  # --from-command with other file names
    result.report = compare(before, Snapshot.take(quantize, after), original_model)
    history.record("hybrid", {"customized": customized, "failures": len(result.failures),
                              "engine_status": result.engine_status})
    result.status = 1 if result.failures else 0
    return result


def _signal_name(signum: int) -> str:
    import signal

    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"
