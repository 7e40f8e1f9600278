"""Carry unsaved edits onto a fresh read of the file (after pegasus or another editor
rewrote it): "reload and keep my edits"."""

from __future__ import annotations

from dataclasses import dataclass, field

from quanted.core.document.model import QuantizeDocument
from quanted.core.document.lookup import missing_layers


@dataclass
class PendingEdits:
    """What the user changed since the last save, as operations, not bytes."""

    set: dict[str, str] = field(default_factory=dict)  # layer -> qtype (added or changed)
    removed: list[str] = field(default_factory=list)
    comments: dict[str, str | None] = field(default_factory=dict)  # layer -> new comment

    def __bool__(self) -> bool:
        return bool(self.set or self.removed or self.comments)


def pending_edits(doc: QuantizeDocument) -> PendingEdits:
    saved, current = doc.saved_customized, doc.customized
    saved_comments, comments = doc.saved_comments(), doc.comments()
    edits = PendingEdits()
    edits.set = {layer: q for layer, q in current.items() if saved.get(layer) != q}
    edits.removed = [layer for layer in saved if layer not in current]
    for layer in current:
        if comments.get(layer) != saved_comments.get(layer):
            edits.comments[layer] = comments.get(layer)
    return edits


def apply_edits(doc: QuantizeDocument, edits: PendingEdits) -> list[str]:
    """Replay `edits` on `doc` as one undo step; return what could not be replayed."""
    gone = missing_layers(doc, edits.set)
    skipped = [f"{layer}: not re-applied, the layer is no longer in quantize_parameters"
               for layer in edits.set if layer in gone]
    with doc.batch():
        doc.set_layers({layer: q for layer, q in edits.set.items() if layer not in gone})
        for layer in edits.removed:
            if layer in doc.customized:
                doc.remove_layer(layer)
            else:
                skipped.append(f"{layer}: already not customized on disk")
        for layer, comment in edits.comments.items():
            if layer in doc.customized:
                doc.set_comment(layer, comment)
            else:
                skipped.append(f"{layer}: comment not kept, the layer is not customized on disk")
    return skipped


def reload_keeping_edits(doc: QuantizeDocument) -> tuple[QuantizeDocument, list[str]]:
    """Read the file again and replay the unsaved edits on it."""
    if doc.path is None:
        raise ValueError("the document has no file to reload")
    edits = pending_edits(doc)
    fresh = QuantizeDocument.open(doc.path)
    return fresh, apply_edits(fresh, edits)
