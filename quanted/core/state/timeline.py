"""Every attempt at a file's customized list, from `.quanted/history/`: the rebuilds
(`quanted quantize`), hybrid runs, verifies and tune trials, each with its id, its time, its
list (and, for attempts recorded since ids exist, its block with comments) and the figures
verify measured. `diff` compares two attempts; `restore` gives one back as an edit.

    items = attempts(path)              # oldest first
    best_of(path, items)                # the starred one (verify's own rule)
    changes = diff(items[0], items[-1])
    restore(doc, find(path, "3"))       # an undoable edit; doc.save() writes it
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from quanted.core.document.model import QuantizeDocument
from quanted.core.errors import EditError, QuantedError
from quanted.core.engine.attempts import top1_text
from quanted.core.state.history import Entry, History, stamp_time
from quanted.core.document.lookup import missing_layers

ATTEMPT_KINDS = ("quantize", "hybrid", "verify", "tune")
CURRENT = "current"  # `--diff 3 current`: the file as it is now


class UnknownAttempt(QuantedError):
    exit_code = 1


@dataclass(frozen=True)
class Attempt:
    id: str
    kind: str  # one of ATTEMPT_KINDS, or a copy's kind ("before-quantize", ...) when asked for
    stamp: str  # the history stamp, YYYYmmdd-HHMMSS-ffffff
    customized: dict[str, str]
    block: str | None  # the customized block with its comments, when recorded
    figures: dict | None  # verify's summary: mean_cosine, top1_agree, count, ...
    details: dict  # per kind: algorithm (quantize), failures (hybrid), iterations (verify)

    @property
    def time(self) -> str:
        """ISO 8601 with the local offset."""
        when = stamp_time(self.stamp)
        if when is None:
            return self.stamp
        return when.astimezone().isoformat(timespec="seconds")

    @property
    def when(self) -> str:
        return self.time[:19].replace("T", " ")

    @property
    def mean_cosine(self) -> float | None:
        value = (self.figures or {}).get("mean_cosine")
        return float(value) if isinstance(value, (int, float)) else None

    def to_json(self, is_best: bool = False) -> dict:
        return {"id": self.id, "kind": self.kind, "time": self.time,
                "customized": self.customized, "figures": self.figures,
                "best": is_best, **self.details}


def _customized(data: dict) -> dict[str, str]:
    value = data.get("customized")
    if not isinstance(value, dict):
        return {}
    return {str(k): str(v) for k, v in value.items()}


def _figures(entry: Entry) -> dict | None:
    summary = entry.data.get("summary")
    if isinstance(summary, dict) and isinstance(summary.get("quantized"), dict):
        return summary["quantized"]  # verify's shape
    if isinstance(summary, dict) and "mean_cosine" in summary:
        return summary  # a flat summary (tune)
    return None


def _details(entry: Entry) -> dict:
    data = entry.data
    keys = {"quantize": ("algorithm", "mle", "missing"), "hybrid": ("failures",),
            "verify": ("iterations",),
            "tune": ("iterations", "trials", "minimal")}.get(entry.kind, ())
    return {k: data[k] for k in keys if k in data}


def from_entry(history: History, entry: Entry) -> Attempt:
    block = entry.data.get("block")
    if not isinstance(block, str) or not block:
        block = None
        copy = history.path_of(entry)
        if copy is not None:
            try:
                block = QuantizeDocument.open(copy).block_text()
            except QuantedError:
                block = None
    return Attempt(entry.id, entry.kind, entry.time, _customized(entry.data), block,
                   _figures(entry), _details(entry))


def attempts(quantize: Path) -> list[Attempt]:
    """The attempts (not the safety copies), oldest first."""
    history = History(Path(quantize).absolute())
    return [from_entry(history, e) for e in history.entries() if e.kind in ATTEMPT_KINDS]


def best_of(quantize: Path, items: list[Attempt]) -> Attempt | None:
    """verify's rule (quanted.core.engine.attempts.best) picks among the verified attempts."""
    from quanted.core.engine.attempts import best, verify_history

    top = best(verify_history(Path(quantize)))
    if top is None:
        return None
    return next((a for a in items if a.kind == "verify" and a.stamp == top.time), None)


def current(doc: QuantizeDocument) -> Attempt:
    return Attempt(CURRENT, CURRENT, "", doc.customized, doc.block_text(), None, {})


def find(quantize: Path, attempt_id: str, doc: QuantizeDocument | None = None) -> Attempt:
    """An attempt by id; any history entry with a list counts (a before-quantize copy is a
    list worth going back to); `current` is the file itself."""
    if attempt_id == CURRENT:
        return current(doc or QuantizeDocument.open(quantize))
    history = History(Path(quantize).absolute())
    entry = history.find(attempt_id)
    if entry is None or ("customized" not in entry.data and history.path_of(entry) is None):
        ids = ", ".join(a.id for a in attempts(quantize)) or "none yet"
        raise UnknownAttempt(f"no attempt {attempt_id!r} in the history (ids: {ids})", quantize)
    return from_entry(history, entry)


@dataclass(frozen=True)
class AttemptDiff:
    before: Attempt
    after: Attempt
    added: dict[str, str]
    removed: dict[str, str]
    retyped: dict[str, tuple[str, str]]

    def to_json(self) -> dict:
        return {"a": self.before.to_json(), "b": self.after.to_json(), "added": self.added,
                "removed": self.removed,
                "retyped": {k: {"a": a, "b": b} for k, (a, b) in self.retyped.items()}}

    def lines(self) -> list[str]:
        out = [f"{_title(self.before)} -> {_title(self.after)}"]
        out += [f"+ {layer}: {qtype}" for layer, qtype in self.added.items()]
        out += [f"- {layer}: {qtype}" for layer, qtype in self.removed.items()]
        out += [f"~ {layer}: {a} -> {b}" for layer, (a, b) in self.retyped.items()]
        if not (self.added or self.removed or self.retyped):
            out.append("  the same customized list")
        for attempt in (self.before, self.after):
            out.append(f"figures {attempt.id}: {figures_text(attempt)}")
        return out


def _title(attempt: Attempt) -> str:
    if attempt.kind == CURRENT:
        return "current file"
    return f"{attempt.id} ({attempt.kind}, {attempt.when})"


def figures_text(attempt: Attempt) -> str:
    f = attempt.figures
    if not f or attempt.mean_cosine is None:
        return "not measured"
    return (f"mean cosine {attempt.mean_cosine:.6f}, "
            f"top-1 {top1_text(f)}")


def diff(before: Attempt, after: Attempt) -> AttemptDiff:
    a, b = before.customized, after.customized
    return AttemptDiff(
        before, after,
        added={k: v for k, v in b.items() if k not in a},
        removed={k: v for k, v in a.items() if k not in b},
        retyped={k: (a[k], v) for k, v in b.items() if k in a and a[k] != v},
    )


def restore(doc: QuantizeDocument, attempt: Attempt) -> None:
    """Make `doc`'s customized list exactly the attempt's, as one undoable edit: its recorded
    block byte for byte (comments too) when there is one, else its entries. Refused (nothing
    changed) when the attempt names layers the file no longer has."""
    gone = missing_layers(doc, attempt.customized)
    missing = [layer for layer in attempt.customized if layer in gone]
    if missing:
        more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
        raise EditError(
            f"cannot restore attempt {attempt.id}: {len(missing)} of its layer(s) are not in "
            f"this file any more ({', '.join(missing[:5])}{more}); nothing changed", doc.path)
    if attempt.block is not None:
        doc.replace_block(attempt.block)
        return
    with doc.batch():
        for layer in [k for k in doc.customized if k not in attempt.customized]:
            doc.remove_layer(layer)
        doc.set_layers(attempt.customized)
