"""Messages the main screen's thread workers post back to it."""

from __future__ import annotations

from textual.message import Message

from quanted.core.document.model import QuantizeDocument
from quanted.tui import loading


class FileRead(Message):
    """The load worker read the file. `skipped`: after a reload that kept the unsaved edits,
    the ones it could not replay."""

    def __init__(self, result: loading.LoadedFile, reloaded: bool,
                 skipped: list[str] | None = None) -> None:
        super().__init__()
        self.result = result
        self.reloaded = reloaded
        self.skipped = skipped


class QtypesReady(Message):
    def __init__(self, doc: QuantizeDocument,
                 found: tuple[dict[str, str], dict[str, frozenset[str]]]) -> None:
        super().__init__()
        self.doc = doc
        self.qtypes_by_layer, self.applied = found


class BulkAdded(Message):
    def __init__(self, count: int, threshold: float) -> None:
        super().__init__()
        self.count = count
        self.threshold = threshold
