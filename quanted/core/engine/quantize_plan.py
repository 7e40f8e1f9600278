"""Planning the first quantization: the options of `quanted quantize` (ACUITY's precision
guide: default or KL divergence, MLE), the files beside MODEL.json, and the exact
`pegasus quantize --rebuild --compute-entropy` argument list. Runs nothing. The one step
that plans from its inputs, not an open document: it makes the file (engine/step.py)."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path

from quanted.core.document.model import QuantizeDocument
from quanted.core.engine import command as cmd
from quanted.core.engine.command import CommandError, ModelFiles, dataset_size
from quanted.core.engine.discovery import find_pegasus

QUANTIZERS = ("asymmetric_affine", "dynamic_fixed_point", "symmetric_affine",
              "perchannel_symmetric_affine", "bfloat16", "qbfloat16")
QTYPES = ("uint8", "int8", "int16", "bfloat16", "float16")
KLD_BATCH_SIZE = 100  # the guide's --batch-size for KL divergence
KLD_BITS = 12


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
                       if not p.name.endswith(".quantize.json")
                       and p.with_suffix(".data").is_file())
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


def rebuild_plan(doc: QuantizeDocument, pegasus: str | None = None,
                 from_command: str | None = None) -> QuantizePlan:
    """The --rebuild run of an open NAME_POSTFIX.quantize (what the editor's run screen
    offers beside --hybrid): from the files beside it and its own quantizer and qtype, or from
    a printed `pegasus quantize` line with --hybrid turned into --rebuild."""
    if doc.path is None:
        raise CommandError("the document has no file: pegasus rebuilds a file on disk")
    quantize = doc.path.absolute()
    if from_command is None:
        files = cmd.model_files(quantize)
        quantizer, qtype = cmd.dominant_quantization(doc)
        try:
            options = QuantizeOptions(quantizer=quantizer, qtype=qtype).checked()
        except CommandError as exc:
            raise CommandError(exc.message, quantize) from None
        # This very file, not NAME_QTYPE.quantize: a NAME.quantize has no postfix to keep.
        args = quantize_args(files, cmd.safe_arg(quantize.name), options)
        return QuantizePlan(files, quantize, find_pegasus(pegasus) + args, options)
    prefix, args = cmd.from_printed_command(from_command, quantize)
    if pegasus is not None or not prefix:
        prefix = find_pegasus(pegasus)
    args = [("--rebuild" if word == "--hybrid" else word) for word in args]
    model = quantize.parent / (cmd.flag_value(args, "--model") or "")
    files = ModelFiles(model.stem, quantize.parent, model, quantize.parent / (
        cmd.flag_value(args, "--model-data") or ""), quantize.parent / (
        cmd.flag_value(args, "--with-input-meta") or ""))
    options = QuantizeOptions(kld=cmd.flag_value(args, "--algorithm") == "kl_divergence",
                              mle="--MLE" in args)
    return QuantizePlan(files, quantize, [*prefix, *args], options)
