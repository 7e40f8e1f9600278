"""The first quantization: `pegasus quantize --rebuild --compute-entropy` from a model folder,
with the default algorithm or KL divergence (ACUITY's precision guide), made safe like the
hybrid run: the old file is copied to the history first, restored when the run fails, and the
user's customized entries and comments are carried over onto the rebuilt file.

    the_plan = plan(Path("model/NAME.json"), QuantizeOptions(kld=True))   # runs nothing
    the_plan.command                                                  # the exact argument list
    result = run(the_plan, Events(line=on_line), Cancel())           # QuantizeResult, or
                                        # StepFailed/StepCancelled (engine/step.py) with it
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

from quanted.core.state import recovery
from quanted.core.document.carryover import CarryOver, carry_customized
from quanted.core.document.model import QuantizeDocument
from quanted.core.engine import baseline
from quanted.core.engine.command import ModelFiles  # noqa: F401 (API)
from quanted.core.engine.logscan import Failure, scan_line, strip_ansi
from quanted.core.engine.process import EngineProcess, SignalGuard, follow_marked
from quanted.core.engine.step import Cancel, StepRun, Events, StepCancelled, StepFailed
from quanted.core.engine.quantize_plan import (  # noqa: F401 (API: one import for callers)
    QTYPES,
    QUANTIZERS,
    QuantizeOptions,
    QuantizePlan,
    model_inputs,
    plan,
    quantize_args,
    rebuild_plan,
)
from quanted.core.errors import QuantedError
from quanted.core.disk.files import locked
from quanted.core.disk.saving import atomic_write
from quanted.core.state.history import History

# The engine's warning when a batch does not fit a layer written for batch 1 (then it raises).
FIXED_BATCH = re.compile(r"The input size \S+ of Reshape \[(\d+),")
TAIL_LINES = 20


@dataclass
class QuantizeResult:
    status: int  # what `quanted quantize` exits with
    engine_status: int | None
    quantize: Path
    failures: list[Failure] = field(default_factory=list)
    cancelled: bool = False
    signal: int | None = None  # SIGTERM/SIGHUP that stopped the run
    restored: str | None = None  # why the old file was put back (or the partial one removed)
    backup: Path | None = None  # the history copy of the old file
    carry: CarryOver | None = None
    hints: list[str] = field(default_factory=list)
    customized: dict[str, str] = field(default_factory=dict)
    attempt: str | None = None  # the history id of the recorded attempt

    def to_json(self) -> dict:
        return {
            "status": self.status,
            "engine_status": self.engine_status,
            "file": str(self.quantize),
            "cancelled": self.cancelled,
            "signal": self.signal,
            "restored": self.restored,
            "backup": str(self.backup) if self.backup else None,
            "failures": [{"kind": f.kind, "layer": f.layer, "message": f.message}
                         for f in self.failures],
            "carry_over": self.carry.to_json() if self.carry else None,
            "customized": self.customized,
            "hints": self.hints,
            "attempt": self.attempt,
        }


def _open_old(path: Path) -> QuantizeDocument | None:
    if not path.is_file():
        return None
    try:
        return QuantizeDocument.open(path)
    except QuantedError:
        return None  # an unreadable old file is still copied, there is nothing to carry


def run(
    the_plan: QuantizePlan,
    events: Events[None] = Events(),
    cancel: Cancel | None = None,
    *,
    fresh: bool = False,
    record: bool = True,
) -> QuantizeResult:
    """Run the plan in the model's folder (the contract: engine/step.py). `fresh` skips the
    carry-over; `record=False` keeps the history untouched (the scratch runs of --compare).
    A failed run (StepFailed) or a cancelled one (StepCancelled) has put the old file back,
    or removed the partial one; either carries the QuantizeResult that says so.

    As for the hybrid run: the file's lock is held throughout, an in-progress marker covers
    the time the engine rewrites an existing file (`quanted recover`), and SIGTERM/SIGHUP in
    the main thread stop the run like ctrl+c (old file put back, status 128+n)."""
    guard = SignalGuard()
    tail: deque[str] = deque(maxlen=TAIL_LINES)
    with locked(the_plan.quantize), guard.installed():
        recovery.refuse_if_interrupted(the_plan.quantize)
        result = _run_locked(the_plan, events, cancel or Cancel(), fresh, record, guard, tail)
        if result.signal is None and guard.received is not None:
            result.signal = guard.received
            result.status = 128 + guard.received
    if result.cancelled:
        raise StepCancelled(result.restored or "the run was cancelled", the_plan.quantize,
                            result=result, signal=result.signal)
    if result.restored is not None:
        raise StepFailed(result.restored, result.status, list(tail),
                         StepRun("pegasus quantize", the_plan.command), the_plan.quantize,
                         result)
    return result


def _run_locked(the_plan: QuantizePlan, events: Events[None], cancel: Cancel, fresh: bool,
                record: bool, guard: SignalGuard, tail: deque[str]) -> QuantizeResult:
    quantize = the_plan.quantize
    entropy = the_plan.cwd / "entropy.txt"
    before = _Before.take(the_plan, record)
    result = QuantizeResult(status=0, engine_status=None, quantize=quantize,
                            backup=before.backup)
    process = EngineProcess(the_plan.command, the_plan.cwd, guard=guard)
    if before.backup is not None:
        recovery.mark(quantize, "quantize", before.backup, before.entropy_backup,
                      the_plan.command)
    batch_too_big = False

    def handle(line: str) -> None:
        nonlocal batch_too_big
        tail.append(line)
        events.line(line)
        found = FIXED_BATCH.search(strip_ansi(line))
        if found and found[1] != "1":
            batch_too_big = True
        failure = scan_line(line)
        if failure is not None:
            result.failures.append(failure)

    result.engine_status = follow_marked(process, quantize, handle, cancel)
    result.signal = process.signal
    result.cancelled = process.cancelled.is_set()
    broken = None
    new = None
    if result.cancelled:
        broken = "the run was cancelled"
    elif result.engine_status != 0:
        broken = f"pegasus exited with status {result.engine_status}"
    else:
        try:
            new = QuantizeDocument.open(quantize)
        except QuantedError as exc:
            broken = f"pegasus did not leave a usable {quantize.name} ({exc.message})"
    if batch_too_big:
        result.hints.append("the model has a layer written for batch 1 (a Reshape): "
                            "pass --batch-size 1")
    if broken is not None or new is None:
        result.restored = f"{broken}; {before.put_back(quantize, entropy)}"
        recovery.clear(quantize)
        result.status = result.engine_status if result.engine_status not in (0, None) else 1
        if result.cancelled:
            result.status = 128 + result.signal if result.signal is not None else 130
        return result
    recovery.clear(quantize)
    _finish(the_plan, before, new, result, fresh, record)
    return result



def adopt(the_plan: QuantizePlan, made: Path, fresh: bool = False) -> QuantizeResult:
    """Write a file quantized elsewhere (a scratch folder of --compare, with its entropy.txt
    beside it) as the plan's file, with the same history copy and carry-over as `run`."""
    with locked(the_plan.quantize):
        recovery.refuse_if_interrupted(the_plan.quantize)
        before = _Before.take(the_plan, True)
        atomic_write(the_plan.quantize, made.read_bytes(), force=True)
        if (made.parent / "entropy.txt").is_file():
            atomic_write(the_plan.cwd / "entropy.txt",
                         (made.parent / "entropy.txt").read_bytes(), force=True)
        result = QuantizeResult(status=0, engine_status=0, quantize=the_plan.quantize,
                                backup=before.backup)
        _finish(the_plan, before, QuantizeDocument.open(the_plan.quantize), result, fresh, True)
        return result


@dataclass
class _Before:
    """The old file (and entropy.txt) before a rebuild: copied to the history, kept to put
    back, read for the carry-over."""

    doc: QuantizeDocument | None
    data: bytes | None
    entropy: bytes | None
    backup: Path | None
    entropy_backup: Path | None = None

    @classmethod
    def take(cls, the_plan: QuantizePlan, record: bool) -> _Before:
        quantize, entropy = the_plan.quantize, the_plan.cwd / "entropy.txt"
        old = _open_old(quantize)
        backup = entropy_backup = None
        if quantize.is_file() and record:
            history = History(quantize)
            backup = history.save_copy("before-quantize", {
                "customized": old.customized if old else {},
                "block": old.block_text() if old else "", "command": the_plan.command})
            if entropy.is_file():
                entropy_backup = history.save_copy("entropy-before-quantize", source=entropy)
        return cls(old, quantize.read_bytes() if quantize.is_file() else None,
                   entropy.read_bytes() if entropy.is_file() else None, backup, entropy_backup)

    def put_back(self, quantize: Path, entropy: Path) -> str:
        _put_back(quantize, self.data)
        _put_back(entropy, self.entropy)
        if self.data is None:
            return f"removed the partial {quantize.name}"
        return f"restored {quantize.name}" + (f" from {self.backup}" if self.backup else "")


def _finish(the_plan: QuantizePlan, before: _Before, new: QuantizeDocument,
            result: QuantizeResult, fresh: bool, record: bool) -> None:
    if before.doc is not None and not fresh:
        result.carry = carry_customized(before.doc, new)
        if new.is_modified:
            new.save(overwrite=True, force=True)
    result.customized = new.customized
    if result.engine_status == 0 and not result.failures:
        _keep_base(the_plan, new)
    if record:
        result.attempt = History(the_plan.quantize).record("quantize", {
            "customized": new.customized, "block": new.block_text(),
            "algorithm": the_plan.options.label, "mle": the_plan.options.mle,
            "command": the_plan.command, "engine_status": result.engine_status,
            "carried": result.carry.carried if result.carry else {},
            "missing": result.carry.missing if result.carry else {},
        }).id
    result.status = 1 if result.failures else 0


def _keep_base(the_plan: QuantizePlan, new: QuantizeDocument) -> None:
    """The file just made is the plain model, and this run's flags its calibration: every
    later hybrid run, tune trial and verify's plain row start from them (baseline.py)."""
    words = the_plan.command
    args = words[words.index("quantize"):] if "quantize" in words else words
    calibration = baseline.Calibration.from_args(args, "recorded by `quanted quantize`")
    baseline.keep(the_plan.quantize, new.to_bytes(), calibration, "made by `quanted quantize`")


def _put_back(path: Path, data: bytes | None) -> None:
    if data is not None:
        atomic_write(path, data, force=True)
    elif path.is_file():
        path.unlink()
