"""What a trial needs from the user's folder, and the scratch folder it runs in.

A trial never runs in the user's folder: the --hybrid run rewrites the .quantize, NAME.data
and entropy.txt in place. The scratch folder (under the system temp folder) gets copies of the
files the engine reads or writes (the .quantize with the candidate list, NAME.json, NAME.data,
the inputmeta, the dataset listing) and symlinks to the inputs the listing names, which the
engine only reads."""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from quanted.core.document.model import QuantizeDocument
from quanted.core.engine import baseline
from quanted.core.engine import command as cmd
from quanted.core.format.scanner import CUSTOMIZED

# 2: trials start from the plain table with the file's calibration (baseline.py); trials
# recorded from the file's own table measured something else and are not reused.
# 3: the empty list is measured as the plain table, with no --hybrid run of it.
SCHEMA = b"quanted-tune-3"


@dataclass(frozen=True)
class Inputs:
    quantize: Path  # the user's file, absolute; only read
    base: bytes  # the plain file (baseline.Base.data): every trial starts from its table
    calibration: baseline.Calibration  # the --rebuild run's flags: every trial's --hybrid
    files: cmd.ModelFiles
    listings: tuple[Path, ...]  # dataset listings (copied), relative to the folder
    inputs: tuple[Path, ...]  # the files they name (linked), relative to the folder

    @property
    def folder(self) -> Path:
        return self.quantize.parent


def gather(quantize: Path, base: baseline.Base) -> Inputs:
    quantize = quantize.absolute()
    files = cmd.model_files(quantize)
    listings, inputs = cmd.dataset_files(files.inputmeta)
    return Inputs(quantize, base.data, base.calibration, files, listings, inputs)


def context_key(inputs: Inputs, iterations: int) -> str:
    """A hash of everything a trial's figures depend on except its layer set and qtype: the
    model, its data, the inputmeta, the dataset, the plain .quantize without its customized
    list (every trial replaces that list), the calibration flags, and the number of inputs
    measured."""
    digest = hashlib.sha256(SCHEMA)

    def add(label: str, data: bytes) -> None:
        digest.update(f"\0{label}\0{len(data)}\0".encode())
        digest.update(data)

    doc = QuantizeDocument(inputs.base, inputs.quantize)
    entry = doc.scan.entries[CUSTOMIZED]
    add("quantize", inputs.base[: entry.start] + inputs.base[entry.end:])
    for label, path in (("model", inputs.files.model), ("data", inputs.files.data),
                        ("inputmeta", inputs.files.inputmeta)):
        add(label, path.read_bytes())
    for relative in (*inputs.listings, *inputs.inputs):
        add(f"dataset {relative}", (inputs.folder / relative).read_bytes())
    add("iterations", str(iterations).encode())
    add("calibration", "\0".join(inputs.calibration.flags).encode())
    return digest.hexdigest()


def make(inputs: Inputs, layers: dict[str, str]) -> Path:
    """A fresh scratch folder holding the model with `layers` as the customized list; returns
    the .quantize in it. The caller removes the folder (shutil.rmtree(path.parent))."""
    folder = Path(tempfile.mkdtemp(prefix="quanted-tune-"))
    try:
        files = inputs.files
        for source in (files.model, files.data, files.inputmeta):
            shutil.copyfile(source, folder / source.name)
        for relative in inputs.listings:
            (folder / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(inputs.folder / relative, folder / relative)
        for relative in inputs.inputs:
            link = folder / relative
            if link.exists():
                continue
            link.parent.mkdir(parents=True, exist_ok=True)
            link.symlink_to((inputs.folder / relative).resolve())
        target = folder / inputs.quantize.name
        target.write_bytes(baseline.with_customized(inputs.base, target, layers))
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return target
