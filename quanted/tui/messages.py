"""Messages the main screen's thread workers post back to it."""

from __future__ import annotations

from pathlib import Path

from textual.message import Message

from quanted.core.document import QuantizeDocument
from quanted.tui import loading


class Loaded(Message):
    def __init__(self, result: loading.Loaded, reloaded: bool) -> None:
        super().__init__()
        self.result = result
        self.reloaded = reloaded


class QtypesReady(Message):
    def __init__(self, doc: QuantizeDocument, qtypes_by_layer: dict[str, str]) -> None:
        super().__init__()
        self.doc = doc
        self.qtypes_by_layer = qtypes_by_layer


class Saved(Message):
    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path


class BulkAdded(Message):
    def __init__(self, count: int, threshold: float) -> None:
        super().__init__()
        self.count = count
        self.threshold = threshold
