"""One trial, start to end, in its own scratch folder: write the candidate list, run the
`--hybrid` quantize (quanted.core.engine.hybrid), then the quantized inference, and return the
outputs; and the float inference, run once per tune.

`run_trial(spec)` is a plain module-level function of a picklable spec, so any executor can run
it: a ThreadPoolExecutor here, or a dask cluster (cluster.py) on machines sharing the model
folder's path. Cancelling reaches the engine processes started in this process through the
spec's token (`cancel(token)`); on a worker, cluster.on_worker calls it when the tune is
cancelled."""

from __future__ import annotations

import re
import shlex
import shutil
import sys
import threading
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from quanted.core.document.model import QuantizeDocument
from quanted.core.engine import baseline, hybrid, verify
from quanted.core.engine.model_json import ModelError, producers, read_layers
from quanted.core.engine.outputs import OutputsError, find_dumps, model_io, read_tensor
from quanted.core.engine.process import EngineProcess
from quanted.core.engine.step import Cancel, Events, StepCancelled, StepFailed
from quanted.core.tune import scratch
from quanted.core.tune.figures import Outputs

TAIL_LINES = 20
CONFLICT = re.compile(r"conflict to quantize tensor @(?P<layer>[^\s:'\"()]+):")


class TuneCancelled(StepCancelled):
    pass


class TrialFailed(StepFailed):
    """An engine run of a trial failed; `exit_code` is the engine's status."""

    def __init__(self, what: str, status: int, tail: list[str]) -> None:
        super().__init__(f"{what} exited with status {status}", status, tail)
        self.what = what

    def __reduce__(self) -> tuple:
        # Raised on a cluster worker, unpickled on the client.
        return (TrialFailed, (self.what, self.status, self.tail))


@dataclass(frozen=True)
class TrialSpec:
    inputs: scratch.Inputs
    customized: dict[str, str]  # the candidate list; {} is the plain model
    pegasus: list[str]  # the engine's command prefix
    command: list[str]  # the hybrid quantize command (hybrid_command), run in the scratch folder
    iterations: int  # inputs measured
    token: str = ""  # names this tune's Control in this process


@dataclass(frozen=True)
class TrialOutput:
    customized: dict[str, str]
    outputs: Outputs
    not_applied: tuple[str, ...]  # requested layers the engine did not apply
    notes: tuple[str, ...]  # engine failures that name no layer
    seconds: float
    worker: str | None = None  # the dask worker's address; None when run in this process


class Control(Cancel):
    """The engine processes of one tune in this process (its trials run several at once);
    cancel() stops them and starts no more."""

    def check(self, what: str) -> None:
        if self.cancelled.is_set():
            raise TuneCancelled(f"tune cancelled {what}")


_controls: dict[str, Control] = {}
_controls_lock = threading.Lock()


def control(token: str) -> Control:
    """The Control of `token` in this process (made on first use)."""
    with _controls_lock:
        return _controls.setdefault(token, Control())


def release(token: str) -> None:
    with _controls_lock:
        _controls.pop(token, None)


def cancel(token: str) -> None:
    control(token).cancel()


def _control_of(spec: TrialSpec) -> Control:
    with _controls_lock:
        return _controls.get(spec.token) or Control()


def run_trial(spec: TrialSpec) -> TrialOutput:
    started = time.monotonic()
    ctl = _control_of(spec)
    ctl.check("before a trial")
    quantize = scratch.make(spec.inputs, spec.customized)
    try:
        # The empty list is the plain table itself, as verify's plain row measures it: a
        # --hybrid run of it can recalibrate (docs/format.md section 10: 9 of O-Net's 38
        # tensors), which would make tune's plain a model the user never has.
        not_applied, notes = _hybrid(quantize, spec, ctl) if spec.customized else ((), ())
        outputs = _inference(quantize, spec, verify.QUANTIZED, ctl)
    finally:
        shutil.rmtree(quantize.parent, ignore_errors=True)
    return TrialOutput(spec.customized, outputs, not_applied, notes, time.monotonic() - started,
                       _worker_address())


def _worker_address() -> str | None:
    if "distributed" not in sys.modules:  # never imported: not on a dask worker
        return None
    from distributed import get_worker

    try:
        return str(get_worker().address)
    except ValueError:  # dask imported, but this is no worker's task
        return None


def run_float(spec: TrialSpec) -> Outputs:
    """The float model's outputs over the spec's inputs (its layers do not matter)."""
    ctl = _control_of(spec)
    ctl.check("before the float run")
    quantize = scratch.make(spec.inputs, {})
    try:
        return _inference(quantize, spec, verify.FLOAT, ctl)
    finally:
        shutil.rmtree(quantize.parent, ignore_errors=True)


def hybrid_command(inputs: scratch.Inputs, pegasus: list[str]) -> list[str]:
    """The command `quanted hybrid` runs for the user's file: the --hybrid run with the
    calibration of the run that made the plain file (--compute-entropy included when it had
    it: with or without it the engine builds different models, docs/format.md section 10).
    Every trial and the final run use it as is (file names are relative: it runs in a scratch
    folder too), so the tuned file, re-run by `quanted hybrid`, is the model the trials
    measured."""
    return pegasus + inputs.calibration.hybrid_args(inputs.quantize, inputs.files)


def hybrid_plan(quantize: Path, command: list[str], from_base: bool) -> hybrid.HybridPlan:
    return hybrid.plan(QuantizeDocument.open(quantize), from_command=shlex.join(command),
                       from_base=from_base)


def _hybrid(quantize: Path, spec: TrialSpec, ctl: Control) -> tuple[tuple[str, ...],
                                                                         tuple[str, ...]]:
    # The scratch file is the plain table with the trial's list already.
    the_plan = hybrid_plan(quantize, spec.command, from_base=False)
    tail: deque[str] = deque(maxlen=TAIL_LINES)
    try:
        # force: the file's own list may name what the check calls an error; the engine's
        # verdict on it is what a trial measures (a refusal makes the trial "not applied").
        result = hybrid.run(the_plan, Events(line=tail.append), ctl, force=True)
    except StepCancelled:
        raise TuneCancelled("tune cancelled during a trial's hybrid run") from None
    except StepFailed as failed:
        raise TrialFailed("pegasus quantize --hybrid (a trial with "
                          f"{len(spec.customized)} layer(s) raised)",
                          failed.result.engine_status or 1 if failed.result else failed.status,
                          list(tail)) from None
    ctl.check("during a trial's hybrid run")
    wanted = set(spec.customized)
    table = baseline.applied(QuantizeDocument.open(quantize), spec.inputs.calibration.plain)
    # What the table raises, not what the list says: the engine writes its own suggestions
    # into the list, and can exit 0 having applied nothing (a converter conflict).
    refused: set[str] = (wanted - set(table)) | {
        layer for layer in wanted & set(table)
        if "-" in spec.customized[layer] and table[layer] != spec.customized[layer]}
    notes: list[str] = []
    for failure in result.failures:
        named = {name for name in (failure.layer or "").split(", ") if name in wanted}
        refused |= named
        if not named:
            notes.append(failure.message)
    culprits = conflict_culprits((f.message for f in result.failures), wanted,
                                 spec.inputs.files.model)
    if culprits and not wanted & set(table):
        # The engine gave up on the whole list for these; the others were not refused.
        refused = culprits
    return tuple(layer for layer in spec.customized if layer in refused), tuple(notes)


def conflict_culprits(messages: Iterable[str], wanted: set[str], model: Path) -> set[str]:
    """The listed layers a converter conflict is about: those producing or reading the tensor
    of "There's a conflict to quantize tensor @T:out0", after which the engine applies none of
    the list. Measured (acuitylite 6.57.1, tests/engine/build_twoin.py): the engine leaves the
    second input `bias` float (no entry in quantize_parameters); raising the Add it feeds logs
    the conflict for @bias_8:out0 and applies nothing, while the other layers raise fine."""
    tensors = {found["layer"] for message in messages
               for found in CONFLICT.finditer(message)}
    if not tensors:
        return set()
    try:
        layers = read_layers(model)
    except ModelError:
        return set()
    return {layer for layer in wanted
            if layer in tensors or tensors & set(producers(layers.get(layer)))}


def _inference(quantize: Path, spec: TrialSpec, label: str, ctl: Control) -> Outputs:
    the_plan = verify.plan(QuantizeDocument.open(quantize), shlex.join(spec.pegasus),
                           spec.iterations, workdir=quantize.parent / "dumps", plain=False)
    run = next(r for r in the_plan.runs if r.label == label)
    run.output_dir.mkdir(parents=True, exist_ok=True)
    process = EngineProcess(run.command, quantize.parent)
    tail: deque[str] = deque(maxlen=TAIL_LINES)
    process.start()
    ctl.attach(process)
    try:
        status = process.follow(tail.append)
    finally:
        ctl.detach(process)
    if process.cancelled.is_set() or ctl.is_set():
        raise TuneCancelled(f"tune cancelled during a {label} inference")
    if status != 0:
        raise TrialFailed(f"pegasus inference ({label})", status, list(tail))
    keys, _ = model_io(run.model)
    if not keys:
        raise OutputsError("the model has no output layer (`op: output`)", run.model)
    # In the shape dumped: a task check (--check) reads the outputs as the model shapes them.
    return {key: [read_tensor(d.path).reshape(d.shape) for d in dumps]
            for key, dumps in find_dumps(run.output_dir, keys).items()}
