"""The one definition of "the model quantized with list L" (docs/format.md section 10):
`pegasus quantize --hybrid`, with the calibration options of the `--rebuild` run
that made the plain file, run on that plain file's tensor table with L as its customized list.

Two things make it differ from "whatever the file holds now", both measured on acuitylite
6.57.1: a --hybrid run starts from the table it is given, so layers an earlier run raised stay
raised after they leave the list; and --compute-entropy re-calibrates, so a hybrid run with
and one without it measure different models. So quanted keeps:

- the **base**: the plain table (no raised tensor, no converter layer), copied into
  `.quanted/base/` the first time an engine step sees the file plain, or by `quanted quantize`;
- the **calibration**: the --rebuild run's flags (quantizer, qtype, iterations, algorithm,
  --compute-entropy, ...), recorded by `quanted quantize` or by a `--from-command` line, else
  inferred from the file (and said so).

`hybrid`, `tune`'s trials and `verify`'s plain row all start from them."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import stat
from dataclasses import dataclass, field, replace
from pathlib import Path

from quanted.core.document.model import QuantizeDocument
from quanted.core.engine import command as cmd
from quanted.core.engine.calibration import RECORDED, Calibration, infer
from quanted.core.engine.tables import Difference, applied, converters, difference, \
    engine_extras, is_plain, raised
from quanted.core.errors import QuantedError
from quanted.core.state.history import History, new_stamp, open_dir
from quanted.core.state.inprogress import STATE_DIR
from quanted.core.format.scanner import CUSTOMIZED

__all__ = ["Base", "Calibration", "Difference", "Found", "applied", "converters", "difference",
           "engine_extras", "find", "infer", "is_plain", "keep", "load", "persist", "raised",
           "splice_block", "with_customized"]

BASE_DIR = (STATE_DIR, "base")
SEEN_PLAIN = "the file, seen plain"
SCHEMA = 1
_NOFOLLOW = os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)


# -- the kept base ----------------------------------------------------------------------

@dataclass(frozen=True)
class Base:
    """The plain file a list is applied to, and the calibration it was made with."""

    quantize: Path  # the user's file it belongs to
    data: bytes  # the plain file's bytes (its own customized list included; trials replace it)
    calibration: Calibration
    source: str  # where it came from, for people
    time: str = ""
    notes: tuple[str, ...] = field(default=())
    entropy: Path | None = None  # the plain file's entropy report, kept beside it

    @property
    def path(self) -> Path:
        """The kept copy (for cache keys of analyses of the plain model)."""
        return self.quantize.parent.joinpath(*BASE_DIR, self.quantize.name)

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.data).hexdigest()[:16]

    @property
    def key(self) -> str:
        """Names the configuration "plain" everywhere (history, tune's journal)."""
        return f"{self.digest}-{self.calibration.key}"

    def describe(self) -> str:
        return f"plain table {self.digest} ({self.source}); calibration {self.calibration.label}"


def with_customized(data: bytes, path: Path, layers: dict[str, str]) -> bytes:
    """`data` with `layers` as its whole customized list (an edit of the block only)."""
    doc = QuantizeDocument(data, path)
    with doc.batch():
        for layer in list(doc.customized):
            doc.remove_layer(layer)
        doc.set_layers(layers)
    return doc.to_bytes()


def splice_block(base: bytes, doc: QuantizeDocument) -> bytes:
    """`base`'s bytes with the customized block of `doc` (as read: unsaved edits are not
    in it), byte for byte, comments included."""
    base_doc = QuantizeDocument(base, doc.path)
    ours = doc.scan.entries[CUSTOMIZED]
    theirs = base_doc.scan.entries[CUSTOMIZED]
    data = doc.data
    return base[: theirs.start] + data[ours.start: ours.end] + base[theirs.end:]


def _names(quantize: Path) -> tuple[str, str]:
    return quantize.name, quantize.name + ".base.json"


def _entropy_name(quantize: Path) -> str:
    return quantize.name + ".entropy.txt"


def load(quantize: Path) -> Base | None:
    """The kept base of `quantize`, or None."""
    quantize = quantize.absolute()
    copy, meta = _names(quantize)
    with open_dir(quantize.parent, BASE_DIR, create=False) as fd:
        if fd is None:
            return None
        raw_meta = _read(fd, meta)
        data = _read(fd, copy)
    if raw_meta is None or data is None:
        return None
    try:
        info = json.loads(raw_meta)
    except ValueError:
        return None
    calibration = Calibration.from_json(info.get("calibration")) if isinstance(info, dict) \
        else None
    if calibration is None or info.get("schema") != SCHEMA or \
            info.get("sha256") != hashlib.sha256(data).hexdigest():
        return None
    entropy = quantize.parent.joinpath(*BASE_DIR, _entropy_name(quantize))
    return Base(quantize, data, calibration, str(info.get("source", "")),
                str(info.get("time", "")), entropy=entropy if entropy.is_file() else None)


def keep(quantize: Path, data: bytes, calibration: Calibration, source: str,
         entropy: bytes | None = None) -> Base:
    """Write `data` as the file's base (atomically; links in .quanted/ are never followed),
    with the entropy report that describes it when there is one."""
    quantize = quantize.absolute()
    copy, meta = _names(quantize)
    stamp = new_stamp()
    info = {"schema": SCHEMA, "sha256": hashlib.sha256(data).hexdigest(),
            "calibration": calibration.to_json(), "source": source, "time": stamp}
    with open_dir(quantize.parent, BASE_DIR, create=True) as fd:
        assert fd is not None
        _write(fd, copy, data)
        if entropy is not None:
            _write(fd, _entropy_name(quantize), entropy)
        else:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(_entropy_name(quantize), dir_fd=fd)
        _write(fd, meta, json.dumps(info, indent=1).encode())
    kept = quantize.parent.joinpath(*BASE_DIR, _entropy_name(quantize))
    return Base(quantize, data, calibration, source, stamp,
                entropy=kept if entropy is not None else None)


def _read(fd: int, name: str) -> bytes | None:
    try:
        handle = os.open(name, os.O_RDONLY | _NOFOLLOW, dir_fd=fd)
    except OSError:
        return None
    try:
        if not stat.S_ISREG(os.fstat(handle).st_mode):
            return None
        with os.fdopen(handle, "rb", closefd=False) as stream:
            return stream.read()
    finally:
        os.close(handle)


def _write(fd: int, name: str, data: bytes) -> None:
    temp = f".{name}.{os.getpid()}.tmp"
    out = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | _NOFOLLOW, 0o644, dir_fd=fd)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(out, view):]
        os.fsync(out)
    finally:
        os.close(out)
    os.replace(temp, name, src_dir_fd=fd, dst_dir_fd=fd)


@dataclass(frozen=True)
class Found:
    """The base a step uses, and what the step should say about it."""

    base: Base | None
    notes: tuple[str, ...] = ()


def find(quantize: Path, doc: QuantizeDocument, calibration: Calibration | None = None,
         remember: bool = True) -> Found:
    """The file's base: the file itself when its table is plain (replacing an older base of
    another table), else the kept one, else the history's newest plain copy; kept in
    .quanted/base/ when `remember` (a plan passes False: a dry run writes nothing, and the
    run keeps it with `persist`). None when there is none: the caller rebuilds it or says so.
    `calibration` (a --from-command line's) replaces the kept or inferred one."""
    quantize = quantize.absolute()
    kept = load(quantize)
    found = _find(quantize, doc, calibration, kept)
    if remember and found.base is not None and found.base is not kept:
        return Found(persist(found.base, kept), found.notes)
    return found


def _find(quantize: Path, doc: QuantizeDocument, calibration: Calibration | None,
          kept: Base | None) -> Found:
    if kept is not None and calibration is not None and \
            calibration.flags != kept.calibration.flags:
        kept = replace(kept, calibration=calibration)
    files = cmd.model_files(quantize)
    if is_plain(doc, kept.calibration.plain if kept is not None else None):
        if kept is not None and _same_table(kept.data, doc):
            return Found(kept)
        chosen = calibration or (kept.calibration if kept is not None
                                 and kept.calibration.source == RECORDED
                                 else infer(doc, files))
        notes: tuple[str, ...] = ()
        if kept is not None:
            notes = ("the file's plain table is not the one kept in .quanted/base/ "
                     "(quantized again outside quanted?): it is the base now",)
        return Found(Base(quantize, doc.data, chosen, SEEN_PLAIN), notes)
    if kept is not None:
        return Found(kept)
    plain = _plain_from_history(quantize)
    if plain is not None:
        chosen = calibration or infer(QuantizeDocument(plain, quantize), files)
        return Found(Base(quantize, plain, chosen,
                          "the history's copy from before the first hybrid run"))
    return Found(None, (
        f"no plain table of {quantize.name} is known (its table has raised tensors and "
        ".quanted/ holds no copy from before a hybrid run): figures measure the table as it "
        "is; `quanted quantize` rebuilds the plain file",))


def persist(base: Base, kept: Base | None = None) -> Base:
    """Keep `base` in .quanted/base/ (with the entropy report of a file seen plain); nothing
    is written when it is kept already (`kept`: what load() gave, when the caller has it)."""
    kept = kept or load(base.quantize)
    if kept is not None and kept.data == base.data and \
            kept.calibration.flags == base.calibration.flags:
        return kept
    entropy = base.entropy.read_bytes() if base.entropy is not None else \
        _report_of(base.quantize) if base.source == SEEN_PLAIN else None
    return keep(base.quantize, base.data, base.calibration, base.source, entropy)


def _report_of(quantize: Path) -> bytes | None:
    """The entropy report beside a plain file: it describes the plain model."""
    from quanted.core.format.entropy import resolve

    found = resolve(quantize).path
    try:
        return found.read_bytes() if found is not None else None
    except OSError:
        return None


def _same_table(base: bytes, doc: QuantizeDocument) -> bool:
    """The two files have the same bytes outside the customized block."""
    other = QuantizeDocument(base, doc.path)
    return _without_block(other) == _without_block(doc)


def _without_block(doc: QuantizeDocument) -> bytes:
    entry = doc.scan.entries[CUSTOMIZED]
    return doc.data[: entry.start] + doc.data[entry.end:]


def _plain_from_history(quantize: Path) -> bytes | None:
    history = History(quantize)
    # Newest first: an older plain copy may be of an earlier --rebuild (before-quantize
    # copies are left out for that reason: they hold the file a rebuild replaced).
    for entry in reversed(history.entries()):
        if entry.kind not in ("before-hybrid", "before-tune"):
            continue
        path = history.path_of(entry)  # None for a name outside the folder or a link
        try:
            data = path.read_bytes() if path is not None else None
            if data is not None and is_plain(QuantizeDocument(data, quantize)):
                return data
        except (OSError, QuantedError):
            continue
    return None
