"""The plain table of a file whose own table is raised and of which quanted kept no copy: the
`--rebuild` run with the file's calibration, made in a scratch folder (the user's file, data
and entropy report are never touched), kept as the base (baseline.py). One engine run."""

from __future__ import annotations

import shutil
import tempfile
from collections import deque
from collections.abc import Callable
from pathlib import Path

from quanted.core.document.model import QuantizeDocument
from quanted.core.engine import baseline
from quanted.core.engine import command as cmd
from quanted.core.engine.discovery import find_pegasus
from quanted.core.engine.process import EngineProcess
from quanted.core.engine.step import Cancel, StepCancelled, StepFailed

TAIL_LINES = 20


class RebuildFailed(StepFailed):
    def __init__(self, status: int, tail: list[str], path: Path) -> None:
        super().__init__(f"the --rebuild run that makes the plain table exited with status "
                         f"{status}: {tail[-1] if tail else ''}".rstrip(": "), status, tail,
                         path=path)
        self.exit_code = status if 0 < status < 256 else 1


def rebuild(quantize: Path, pegasus: str | None = None,
            on_line: Callable[[str], None] = lambda line: None,
            cancel: Cancel | None = None) -> baseline.Base:
    """Run `pegasus quantize --rebuild` with the file's calibration (inferred, and said so in
    the base's source) in a scratch folder and keep its table as the base."""
    quantize = quantize.absolute()
    doc = QuantizeDocument.open(quantize)
    files = cmd.model_files(quantize)
    calibration = baseline.infer(doc, files)
    prefix = find_pegasus(pegasus)
    folder = Path(tempfile.mkdtemp(prefix="quanted-base-"))
    try:
        _copy_inputs(files, folder)
        args = [("--rebuild" if word == "--hybrid" else word)
                for word in calibration.hybrid_args(quantize, files)]
        process = EngineProcess(prefix + args, folder)
        tail: deque[str] = deque(maxlen=TAIL_LINES)

        def handle(line: str) -> None:
            tail.append(line)
            on_line(line)

        process.start()
        if cancel is not None:
            cancel.attach(process)
        try:
            status = process.follow(handle)
        finally:
            if cancel is not None:
                cancel.detach(process)
        if process.cancelled.is_set():
            raise StepCancelled("cancelled while rebuilding the plain table", quantize)
        if status != 0:
            raise RebuildFailed(status, list(tail), quantize)
        made = folder / quantize.name
        data = made.read_bytes()
        QuantizeDocument(data, made)  # a broken file is an error here, not a base
        report = folder / "entropy.txt"
        return baseline.keep(quantize, data, calibration,
                             "rebuilt by quanted (--rebuild with the inferred calibration)",
                             report.read_bytes() if report.is_file() else None)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _copy_inputs(files: cmd.ModelFiles, folder: Path) -> None:
    for source in (files.model, files.data, files.inputmeta):
        shutil.copyfile(source, folder / source.name)
    listings, inputs = cmd.dataset_files(files.inputmeta)
    for relative in listings:
        (folder / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(files.folder / relative, folder / relative)
    for relative in inputs:
        link = folder / relative
        if not link.exists():
            link.parent.mkdir(parents=True, exist_ok=True)
            link.symlink_to((files.folder / relative).resolve())
