"""Carrying the user's comments across a pegasus --hybrid run, which drops them all (the
engine rewrites the file without them): each goes back to the layer it was written for."""

from __future__ import annotations

from dataclasses import dataclass

from quanted.core.format.block import BlockState
from quanted.core.document.model import QuantizeDocument


@dataclass(frozen=True)
class Comment:
    layer: str | None  # the layer it belongs to; None for comments after the last entry
    text: str
    trailing: bool  # on the layer's own line, else a full line above it


def collect(state: BlockState) -> list[Comment]:
    """A full-line comment belongs to the entry below it; a trailing one to its own line."""
    found: list[Comment] = []
    pending: list[str] = []
    for line in state.lines:
        if line.key is None:
            stripped = line.text.strip()
            if stripped.startswith("#"):
                pending.append(stripped[1:].strip())
            continue
        found.extend(Comment(line.key, text, False) for text in pending)
        pending = []
        if line.comment:
            found.append(Comment(line.key, line.comment, True))
    found.extend(Comment(None, text, False) for text in pending)
    return found


def carry_over(comments: list[Comment], doc: QuantizeDocument) -> int:
    """Put comments back into `doc` (one undo step); return how many were placed.

    Comments of layers no longer customized go to the top of the block, naming the layer."""
    if not comments:
        return 0
    present = set(doc.customized)
    already = {(c.layer, c.text, c.trailing) for c in collect(doc.block_state)}
    top: list[str] = []
    placed = 0
    with doc.batch():
        for comment in comments:
            if (comment.layer, comment.text, comment.trailing) in already:
                continue
            if comment.layer is not None and comment.layer in present:
                if comment.trailing:
                    doc.set_comment(comment.layer, comment.text)
                else:
                    doc.insert_comments([comment.text], before_layer=comment.layer)
            elif comment.layer is not None:
                top.append(f"{comment.text} (was on {comment.layer})")
            else:
                top.append(comment.text)
            placed += 1
        doc.insert_comments(top)
    return placed
