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

from quanted.core.document import QuantizeDocument
from quanted.core.engine import command as cmd
from quanted.core.scanner import CUSTOMIZED

SCHEMA = b"quanted-tune-1"


@dataclass(frozen=True)
class Inputs:
    quantize: Path  # the user's file, absolute; only read
    base: bytes  # its bytes when the tune started: every trial starts from these
    files: cmd.ModelFiles
    listings: tuple[Path, ...]  # dataset listings (copied), relative to the folder
    inputs: tuple[Path, ...]  # the files they name (linked), relative to the folder

    @property
    def folder(self) -> Path:
        return self.quantize.parent


def gather(quantize: Path, base: bytes) -> Inputs:
    quantize = quantize.absolute()
    files = cmd.model_files(quantize)
    listings, inputs = _dataset(files.inputmeta)
    return Inputs(quantize, base, files, listings, inputs)


def _dataset(inputmeta: Path) -> tuple[tuple[Path, ...], tuple[Path, ...]]:
    """The listings the inputmeta names and, for TEXT ones, the files on their lines; only
    those inside the model folder (others are reached by their own path)."""
    from ruamel.yaml import YAML

    folder = inputmeta.parent
    try:
        meta = YAML(typ="safe").load(inputmeta.read_text(encoding="utf-8"))
        databases = meta["input_meta"]["databases"]
    except Exception as exc:  # noqa: BLE001 - any odd inputmeta is one clear error
        raise cmd.CommandError(f"cannot read the dataset from the inputmeta: {exc}",
                               inputmeta) from None
    listings: list[Path] = []
    inputs: list[Path] = []
    for database in databases or []:
        relative = _inside(folder, str(database.get("path", "")))
        if relative is None:
            continue
        listings.append(relative)
        if str(database.get("type", "TEXT")).upper() != "TEXT":
            continue
        text = (folder / relative).read_text(encoding="utf-8", errors="replace")
        for word in text.split():
            found = _inside(folder, word)
            if found is not None and found not in inputs:
                inputs.append(found)
    return tuple(listings), tuple(inputs)


def _inside(folder: Path, name: str) -> Path | None:
    if not name or Path(name).is_absolute():
        return None
    path = (folder / name).resolve()
    if not path.is_file():
        return None
    try:
        path.relative_to(folder.resolve())
    except ValueError:
        return None
    return Path(name)


def context_key(inputs: Inputs, iterations: int) -> str:
    """A hash of everything a trial's figures depend on except its layer set and qtype: the
    model, its data, the inputmeta, the dataset, the .quantize without its customized list
    (every trial replaces that list), and the number of inputs measured."""
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
    return digest.hexdigest()


def with_customized(base: bytes, path: Path, layers: dict[str, str]) -> bytes:
    """The file's bytes with `layers` as its whole customized list (an edit of the block)."""
    doc = QuantizeDocument(base, path)
    with doc.batch():
        for layer in list(doc.customized):
            doc.remove_layer(layer)
        doc.set_layers(layers)
    return doc.to_bytes()


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
        target.write_bytes(with_customized(inputs.base, target, layers))
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return target
