"""The first quantization: `pegasus quantize --rebuild --compute-entropy` from a model folder,
with the default algorithm or KL divergence (ACUITY's precision guide), made safe like the
hybrid run: the old file is copied to the history first, restored when the run fails, and the
user's customized entries and comments are carried over onto the rebuilt file.

    the_plan = plan(Path("model/NAME.json"), QuantizeOptions(kld=True))   # runs nothing
    the_plan.command                                                  # the exact argument list
    result = run(the_plan, on_line)                                   # QuantizeResult
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from quanted.core.carryover import CarryOver, carry_customized
from quanted.core.document import QuantizeDocument
from quanted.core.engine import command as cmd
from quanted.core.engine.command import CommandError, ModelFiles, dataset_size
from quanted.core.engine.discovery import find_pegasus
from quanted.core.engine.logscan import Failure, scan_line, strip_ansi
from quanted.core.engine.process import EngineProcess
from quanted.core.errors import QuantedError
from quanted.core.files import atomic_write
from quanted.core.history import History

QUANTIZERS = ("asymmetric_affine", "dynamic_fixed_point", "symmetric_affine",
              "perchannel_symmetric_affine", "bfloat16", "qbfloat16")
QTYPES = ("uint8", "int8", "int16", "bfloat16", "float16")
KLD_BATCH_SIZE = 100  # the guide's --batch-size for KL divergence
KLD_BITS = 12
# The engine's warning when a batch does not fit a layer written for batch 1 (then it raises).
FIXED_BATCH = re.compile(r"The input size \S+ of Reshape \[(\d+),")


@dataclass(frozen=True)
class QuantizeOptions:
    postfix: str | None = None  # NAME_POSTFIX.quantize; default: the qtype word
    quantizer: str = "asymmetric_affine"
    qtype: str = "uint8"
    iterations: int | None = None  # default: one pass over the calibration dataset
    kld: bool = False
    mle: bool = False
    batch_size: int | None = None  # default: KLD_BATCH_SIZE with kld, the engine's otherwise
    bits: int | None = None  # --divergence-first-quantize-bits, kld only (default KLD_BITS)

    def checked(self) -> QuantizeOptions:
        for name, value in (("iterations", self.iterations), ("batch-size", self.batch_size),
                            ("bits", self.bits)):
            if value is not None and value < 1:
                raise CommandError(f"--{name} must be at least 1, not {value}")
        if self.bits is not None and not self.kld:
            raise CommandError("--bits is KL divergence's first-quantize bits: add --kld")
        if self.quantizer not in QUANTIZERS:
            raise CommandError(f"unknown quantizer {self.quantizer!r} "
                               f"(one of {', '.join(QUANTIZERS)})")
        if not re.fullmatch(r"[A-Za-z0-9_.-]+", self.postfix or self.qtype):
            raise CommandError(f"the postfix {self.postfix or self.qtype!r} cannot be part of "
                               "a file name")
        return self

    @property
    def label(self) -> str:
        return "kl_divergence" if self.kld else "normal"


def model_inputs(path: Path) -> ModelFiles:
    """MODEL.json (or a folder holding exactly one NAME.json with its NAME.data) and the
    NAME.data, NAME_inputmeta.yml beside it."""
    path = path.absolute()
    if path.is_dir():
        found = sorted(p for p in path.glob("*.json")
                       if not p.name.endswith(".quantize.json") and p.with_suffix(".data").is_file())
        if len(found) != 1:
            what = ", ".join(p.name for p in found) if found else "no NAME.json with a NAME.data"
            raise CommandError(f"cannot tell which model to quantize: {what}; name MODEL.json",
                               path)
        path = found[0]
    if not path.name.endswith(".json"):
        raise CommandError("not a model .json (pegasus import writes NAME.json)", path)
    if path.name.endswith(".quantize.json"):
        raise CommandError("this is the model a --hybrid run wrote; quantize the imported "
                           "NAME.json", path)
    name = path.name[: -len(".json")]
    folder = path.parent
    files = ModelFiles(name, folder, path, folder / f"{name}.data",
                       folder / f"{name}_inputmeta.yml")
    missing = [p.name for p in (files.model, files.data, files.inputmeta) if not p.is_file()]
    if missing:
        raise CommandError(f"cannot quantize: missing {', '.join(missing)} in {folder}", path)
    return files


@dataclass
class QuantizePlan:
    files: ModelFiles
    quantize: Path  # NAME_POSTFIX.quantize, written into the model's folder
    command: list[str]
    options: QuantizeOptions

    @property
    def cwd(self) -> Path:
        return self.files.folder


def quantize_args(files: ModelFiles, quantize_name: str, options: QuantizeOptions) -> list[str]:
    """Arguments after the pegasus prefix, relative to the model's folder (the run's cwd)."""
    batch = options.batch_size or (KLD_BATCH_SIZE if options.kld else None)
    iterations = options.iterations
    if iterations is None:
        size = dataset_size(files.inputmeta)
        # One pass over the calibration dataset: a batch of B inputs per iteration.
        iterations = math.ceil(size / (batch or 1)) if size else None
    args = [
        "quantize",
        "--model", files.model.name,
        "--model-data", files.data.name,
        "--with-input-meta", files.inputmeta.name,
        "--rebuild",
        "--model-quantize", quantize_name,
        "--quantizer", options.quantizer,
        "--qtype", options.qtype,
    ]
    if iterations:
        args += ["--iterations", str(iterations)]
    args.append("--compute-entropy")
    if options.kld:
        args += ["--algorithm", "kl_divergence", "--batch-size", str(batch),
                 "--divergence-first-quantize-bits", str(options.bits or KLD_BITS)]
    elif batch:
        args += ["--batch-size", str(batch)]
    if options.mle:
        args.append("--MLE")
    return args


def plan(model: Path, options: QuantizeOptions = QuantizeOptions(),
         pegasus: str | None = None) -> QuantizePlan:
    try:
        options = options.checked()
    except CommandError as exc:
        raise CommandError(exc.message, model) from None
    files = model_inputs(model)
    quantize = files.folder / f"{files.name}_{options.postfix or options.qtype}.quantize"
    prefix = find_pegasus(pegasus)
    return QuantizePlan(files, quantize, prefix + quantize_args(files, quantize.name, options),
                        options)


def rebuild_plan(quantize: Path, pegasus: str | None = None,
                 from_command: str | None = None) -> QuantizePlan:
    """The --rebuild run of an existing NAME_POSTFIX.quantize (what the editor's run screen
    offers beside --hybrid): from the files beside it and its own quantizer and qtype, or from
    a printed `pegasus quantize` line with --hybrid turned into --rebuild."""
    quantize = quantize.absolute()
    if from_command is None:
        doc = QuantizeDocument.open(quantize)
        files = cmd.model_files(quantize)
        quantizer, qtype = cmd.dominant_quantization(doc)
        postfix = quantize.name[len(files.name) + 1: -len(".quantize")]
        return plan(files.model, QuantizeOptions(postfix=postfix or None, quantizer=quantizer,
                                                 qtype=qtype), pegasus)
    prefix, args = cmd.from_printed_command(from_command, quantize)
    if pegasus is not None or not prefix:
        prefix = find_pegasus(pegasus)
    args = [("--rebuild" if word == "--hybrid" else word) for word in args]
    model = quantize.parent / (_value(args, "--model") or "")
    files = ModelFiles(model.stem, quantize.parent, model, quantize.parent / (
        _value(args, "--model-data") or ""), quantize.parent / (
        _value(args, "--with-input-meta") or ""))
    options = QuantizeOptions(kld=_value(args, "--algorithm") == "kl_divergence",
                              mle="--MLE" in args)
    return QuantizePlan(files, quantize, [*prefix, *args], options)


def _value(words: list[str], flag: str) -> str | None:
    for i, word in enumerate(words):
        if word == flag and i + 1 < len(words):
            return words[i + 1]
        if word.startswith(flag + "="):
            return word.split("=", 1)[1]
    return None


@dataclass
class QuantizeResult:
    status: int  # what `quanted quantize` exits with
    engine_status: int | None
    quantize: Path
    failures: list[Failure] = field(default_factory=list)
    cancelled: bool = False
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
    on_line: Callable[[str], None] = lambda line: None,
    *,
    fresh: bool = False,
    record: bool = True,
    process_ready: Callable[[EngineProcess], None] = lambda proc: None,
) -> QuantizeResult:
    """Run the plan in the model's folder. `fresh` skips the carry-over; `record=False` keeps
    the history untouched (the scratch runs of --compare)."""
    quantize = the_plan.quantize
    entropy = the_plan.cwd / "entropy.txt"
    before = _Before.take(the_plan, record)
    result = QuantizeResult(status=0, engine_status=None, quantize=quantize,
                            backup=before.backup)
    process = EngineProcess(the_plan.command, the_plan.cwd)
    process.start()
    process_ready(process)
    batch_too_big = False

    def handle(line: str) -> None:
        nonlocal batch_too_big
        on_line(line)
        found = FIXED_BATCH.search(strip_ansi(line))
        if found and found[1] != "1":
            batch_too_big = True
        failure = scan_line(line)
        if failure is not None:
            result.failures.append(failure)

    result.engine_status = process.follow(handle)
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
        result.status = 130 if result.cancelled else (
            result.engine_status if result.engine_status not in (0, None) else 1)
        return result
    _finish(the_plan, before, new, result, fresh, record)
    return result


def adopt(the_plan: QuantizePlan, made: Path, fresh: bool = False) -> QuantizeResult:
    """Write a file quantized elsewhere (a scratch folder of --compare, with its entropy.txt
    beside it) as the plan's file, with the same history copy and carry-over as `run`."""
    before = _Before.take(the_plan, True)
    atomic_write(the_plan.quantize, made.read_bytes())
    if (made.parent / "entropy.txt").is_file():
        atomic_write(the_plan.cwd / "entropy.txt", (made.parent / "entropy.txt").read_bytes())
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

    @classmethod
    def take(cls, the_plan: QuantizePlan, record: bool) -> _Before:
        quantize, entropy = the_plan.quantize, the_plan.cwd / "entropy.txt"
        old = _open_old(quantize)
        backup = None
        if quantize.is_file() and record:
            history = History(quantize)
            backup = history.save_copy("before-quantize", {
                "customized": old.customized if old else {},
                "block": old.block_text() if old else "", "command": the_plan.command})
            if entropy.is_file():
                history.save_copy("entropy-before-quantize", source=entropy)
        return cls(old, quantize.read_bytes() if quantize.is_file() else None,
                   entropy.read_bytes() if entropy.is_file() else None, backup)

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
            new.save(overwrite=True)
    result.customized = new.customized
    if record:
        result.attempt = History(the_plan.quantize).record("quantize", {
            "customized": new.customized, "block": new.block_text(),
            "algorithm": the_plan.options.label, "mle": the_plan.options.mle,
            "command": the_plan.command, "engine_status": result.engine_status,
            "carried": result.carry.carried if result.carry else {},
            "missing": result.carry.missing if result.carry else {},
        }).id
    result.status = 1 if result.failures else 0


def _put_back(path: Path, data: bytes | None) -> None:
    if data is not None:
        atomic_write(path, data)
    elif path.is_file():
        path.unlink()
