"""An open .quantize file: fast index, customized-layer edits with undo, atomic save."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path

from quanted.core import block, empty_header, scanner
from quanted.core.errors import EditError, FileChangedError, ReadError
from quanted.core.files import atomic_write, locked, read_bytes, remove_stale_temps
from quanted.core.keys import quote_single, split_tensor_key, unquote_single
from quanted.core.scanner import CUSTOMIZED, QUANTIZE_PARAMETERS, Scan


# What an unsaved edit did to a layer of the customized block.
ADDED, CHANGED, REMOVED = "added", "changed", "removed"


@dataclass(frozen=True)
class TensorQtype:
    """One tensor of quantize_parameters: its key, port, quantizer and qtype."""

    key: str
    port: str  # "out0", "weight", "bias", ...
    quantizer: str
    qtype: str


@dataclass(frozen=True)
class DiskStamp:
    """What the file on disk looked like when it was read or last saved."""

    size: int
    mtime_ns: int
    inode: int
    # ctime cannot be set back by a writer: a same-size in-place change that restores the
    # old mtime still moves it.
    ctime_ns: int = 0

    @classmethod
    def of(cls, path: Path) -> DiskStamp:
        st = path.stat()
        return cls(st.st_size, st.st_mtime_ns, st.st_ino, st.st_ctime_ns)


# Below this size a changed-on-disk check compares the bytes even when the stamp agrees.
SMALL_FILE = 4 * 1024 * 1024


class QuantizeDocument:
    """A .quantize file held as its original bytes plus an editable customized block."""

    def __init__(self, data: bytes, path: str | Path | None = None) -> None:
        self.path = Path(path) if path is not None else None
        self._label = str(path) if path is not None else "<input>"
        self.scan: Scan = scanner.scan(data, self._label)
        self._data = data
        self._pending: list[bytes | memoryview] | None = None
        entry = self.scan.entries[CUSTOMIZED]
        self._block_span = (entry.start, entry.end)
        block_text = data[entry.start : entry.end].decode("utf-8")
        self._saved = block.parse(block_text, self._label, lambda: self.block_line)
        indent = self._detect_block_indent(self._saved)
        empty = self._saved.header if block.is_empty(self._saved) else None
        self._editor = block.Editor(indent, self.scan.newline, self._saved.header, empty)
        self._states: list[block.BlockState] = [self._saved]
        self._position = 0
        self._batch_depth = 0
        self._batch_start: int | None = None
        self.stamp: DiskStamp | None = None

    # -- opening ---------------------------------------------------------------

    @classmethod
    def open(cls, path: str | Path) -> QuantizeDocument:
        path = Path(path)
        remove_stale_temps(path)  # left by a save that was killed
        data = read_bytes(path)
        doc = cls(data, path)
        doc.stamp = DiskStamp.of(path)
        if doc._editor.empty_header is None:
            doc._editor.empty_header = empty_header.recall(path)
        return doc

    def _detect_block_indent(self, state: block.BlockState) -> str:
        for line in state.lines:
            if line.key is not None:
                return block.indent_of(line.text)
        return " " * self.scan.key_indent

    @property
    def data(self) -> bytes:
        """The file's bytes as last read or saved (joined lazily after a save)."""
        if self._pending is not None:
            self._data = b"".join(self._pending)
            self._pending = None
            self.scan = replace(self.scan, data=self._data)
        return self._data

    # -- the index -------------------------------------------------------------

    @cached_property
    def tensor_keys(self) -> list[str]:
        self.data  # noqa: B018 - materialise a pending save before the scan reads it
        return scanner.tensor_keys(self.scan)

    @cached_property
    def tensors_by_layer(self) -> dict[str, list[str]]:
        """Layer id -> its tensor keys, in file order."""
        layers: dict[str, list[str]] = {}
        for key in self.tensor_keys:
            layers.setdefault(split_tensor_key(key)[0], []).append(key)
        return layers

    @property
    def layer_ids(self) -> list[str]:
        return list(self.tensors_by_layer)

    def has_layer(self, layer: str) -> bool:
        """True when some tensor `@LAYER:PORT` exists; fast without building the index."""
        if "tensors_by_layer" in self.__dict__:
            return layer in self.tensors_by_layer
        params = self.scan.entries[QUANTIZE_PARAMETERS]
        prefix = b"\n" + b" " * self.scan.key_indent + b"'@" + quote_single(layer).encode()
        data = self.data
        pos = data.find(prefix + b":", params.body_start - 1, params.end)
        while pos >= 0:
            end = data.find(b"\n", pos + 1)
            line = data[pos + 1 : end if end >= 0 else len(data)].strip().decode("utf-8")
            key = unquote_single(line[1 : line.rindex("'")]) if line.startswith("'") else ""
            if key and split_tensor_key(key)[0] == layer:
                return True
            pos = data.find(prefix + b":", pos + 1, params.end)
        if b'"' in data[params.body_start : params.end]:
            return layer in self.tensors_by_layer  # double-quoted keys: take the slow path
        return False

    def tensor_fields(self, key: str) -> dict[str, str]:
        """The scalar fields of one tensor entry, read on demand from its lines."""
        params = self.scan.entries[QUANTIZE_PARAMETERS]
        indent = b" " * self.scan.key_indent
        needle = b"\n" + indent + b"'" + quote_single(key).encode() + b"':"
        pos = self.data.find(needle, params.body_start - 1, params.end)
        if pos < 0:
            raise KeyError(key)
        fields: dict[str, str] = {}
        start = self.data.find(b"\n", pos + 1) + 1
        deeper = re.compile(rb"(?: {%d,}[^\n]*\n)*" % (self.scan.key_indent + 1))
        lines = deeper.match(self.data, start)
        assert lines is not None  # a starred pattern: it matches, if only ""
        body = self.data[start : lines.end()].decode("utf-8")
        for line in body.splitlines():
            name, sep, value = line.strip().partition(":")
            if sep and not name.startswith(("-", "#")):
                fields[name] = value.strip()
        return fields

    def tensor_qtypes(self) -> dict[str, tuple[str, str]]:
        """Every tensor key -> (quantizer, qtype), in one pass over the table."""
        params = self.scan.entries[QUANTIZE_PARAMETERS]
        ki = self.scan.key_indent
        pattern = re.compile(
            rb"\n {%d}'([^'\r\n]*(?:''[^'\r\n]*)*)':|\n {%d,}(qtype|quantizer|dtype): *([^\s#]+)"
            % (ki, ki + 1)
        )
        result: dict[str, tuple[str, str]] = {}
        current: str | None = None
        quantizer = qtype = ""
        for key, field, value in pattern.findall(self.data, params.body_start - 1, params.end):
            if key:
                if current is not None:
                    result[current] = (quantizer, qtype)
                current = unquote_single(key.decode("utf-8"))
                quantizer = qtype = ""
            elif field == b"qtype":
                qtype = value.decode("utf-8")
            else:
                quantizer = value.decode("utf-8")
        if current is not None:
            result[current] = (quantizer, qtype)
        return result

    def qtypes_by_layer(self) -> dict[str, list[TensorQtype]]:
        """Layer id -> its tensors' quantizer and qtype, in file order (one pass over the
        table; "" where a tensor has no such field)."""
        layers: dict[str, list[TensorQtype]] = {}
        for key, (quantizer, qtype) in self.tensor_qtypes().items():
            layer, port = split_tensor_key(key)
            layers.setdefault(layer, []).append(TensorQtype(key, port, quantizer, qtype))
        return layers

    # -- the customized block ------------------------------------------------------

    @property
    def block_state(self) -> block.BlockState:
        return self._states[self._position]

    @property
    def customized(self) -> dict[str, str]:
        """Layer id -> qtype, in file order, as it will be saved."""
        return block.entries(self.block_state)

    @property
    def saved_customized(self) -> dict[str, str]:
        return block.entries(self._saved)

    def comments(self) -> dict[str, str]:
        """Layer id -> its trailing comment, as it will be saved."""
        return _comments(self.block_state)

    def saved_comments(self) -> dict[str, str]:
        """Layer id -> its trailing comment, as on disk."""
        return _comments(self._saved)

    def unsaved_changes(self) -> dict[str, str]:
        """Layer id -> ADDED, CHANGED (its qtype or comment) or REMOVED, for every difference
        between the block as it will be saved and the file as last read or saved; removed
        layers come last."""
        now, saved = self.customized, self.saved_customized
        comments, saved_comments = self.comments(), self.saved_comments()
        found: dict[str, str] = {}
        for layer, qtype in now.items():
            if layer not in saved:
                found[layer] = ADDED
            elif saved[layer] != qtype or comments.get(layer) != saved_comments.get(layer):
                found[layer] = CHANGED
        found.update((layer, REMOVED) for layer in saved if layer not in now)
        return found

    @property
    def block_line(self) -> int:
        """1-based line of the `customized_quantize_layers` header."""
        return scanner.line_of(self.data, self._block_span[0])

    def block_text(self) -> str:
        return block.render(self.block_state)

    # -- edits ---------------------------------------------------------------------

    def _push(self, state: block.BlockState) -> None:
        if state == self.block_state:
            return
        start = self._batch_start
        if self._batch_depth and start is not None and self._position > start:
            self._states[self._position] = state  # a batch is one undo step
            del self._states[self._position + 1 :]
            return
        del self._states[self._position + 1 :]
        self._states.append(state)
        self._position += 1

    def set_layer(self, layer: str, qtype: str) -> None:
        self._push(self._editor.set(self.block_state, layer, qtype))

    def set_layers(self, qtypes: dict[str, str]) -> None:
        """Set or add many layers as one edit (one undo step), in one pass."""
        if qtypes:
            self._push(self._editor.set_many(self.block_state, qtypes))

    def remove_layer(self, layer: str) -> None:
        if layer not in self.customized:
            raise EditError(f"layer {layer!r} is not in customized_quantize_layers")
        self._push(self._editor.remove(self.block_state, layer))

    def set_comment(self, layer: str, comment: str | None) -> None:
        self._push(self._editor.set_comment(self.block_state, layer, comment))

    def insert_comments(self, texts: list[str], before_layer: str | None = None) -> None:
        """Full-line comments above a layer's line, or at the top of the block."""
        self._push(self._editor.insert_comments(self.block_state, texts, before_layer))

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Edits inside one `with doc.batch():` undo and redo as one step."""
        if self._batch_depth == 0:
            self._batch_start = self._position
        self._batch_depth += 1
        try:
            yield
        finally:
            self._batch_depth -= 1
            if self._batch_depth == 0:
                self._batch_start = None

    def can_undo(self) -> bool:
        return self._position > 0

    def can_redo(self) -> bool:
        return self._position < len(self._states) - 1

    def undo(self) -> bool:
        if not self.can_undo():
            return False
        self._position -= 1
        return True

    def redo(self) -> bool:
        if not self.can_redo():
            return False
        self._position += 1
        return True

    @property
    def is_modified(self) -> bool:
        return self.block_state != self._saved

    # -- output ---------------------------------------------------------------------

    def _chunks(self) -> list[bytes | memoryview]:
        if not self.is_modified:
            return [self.data]
        start, end = self._block_span
        view = memoryview(self.data)
        return [view[:start], self.block_text().encode("utf-8"), view[end:]]

    def to_bytes(self) -> bytes:
        return b"".join(self._chunks())

    def changed_on_disk(self) -> bool:
        if self.path is None or self.stamp is None:
            return False
        try:
            now = DiskStamp.of(self.path)
            if now == self.stamp and now.size > SMALL_FILE:
                return False
            # Touched is not changed: compare the bytes (pegasus may rewrite identically).
            return read_bytes(self.path) != self.data
        except (OSError, ReadError):
            return True

    def save(self, path: str | Path | None = None, *, overwrite: bool = False,
             force: bool = False) -> Path:
        """Write atomically under the file's lock. Refuses if the file changed on disk, unless
        `overwrite`; refuses a read-only file unless `force`."""
        target = Path(path) if path is not None else self.path
        if target is None:
            raise EditError("no file name to save to")
        # The lock covers the changed-on-disk check and the rename: no writer in between.
        with locked(target):
            if target == self.path and not overwrite and self.changed_on_disk():
                raise FileChangedError(
                    "changed on disk since it was read (a pegasus run?); reload, or overwrite",
                    target,
                )
            # Written in pieces: joining 15 MB just to write it costs a tenth of the budget.
            chunks = self._chunks()
            was_empty = block.is_empty(self._saved)
            atomic_write(target, chunks, force=force)
            if was_empty and not block.is_empty(self.block_state):
                empty_header.remember(target, self._saved.header)
            # The saved text becomes the new baseline; undo history stays usable.
            self._rebase(chunks, target)
        return target

    def _rebase(self, chunks: list[bytes | memoryview], path: Path) -> None:
        """Make the saved bytes the baseline. Only the block changed, so offsets after it
        shift by the size difference: no second scan of a 15 MB file."""
        start, end = self._block_span
        new_end = end + sum(len(c) for c in chunks) - len(self.data)
        shifted = {}
        for key, entry in self.scan.entries.items():
            if key == CUSTOMIZED:
                entry = replace(entry, end=new_end)
            elif entry.start >= end:
                delta = new_end - end
                entry = replace(
                    entry, start=entry.start + delta, body_start=entry.body_start + delta,
                    end=entry.end + delta,
                )
            shifted[key] = entry
        self.scan = replace(self.scan, entries=shifted)
        self._pending = chunks
        self._block_span = (start, new_end)
        self._saved = self.block_state
        self.path = path
        self._label = str(path)
        self.stamp = DiskStamp.of(path)


def _comments(state: block.BlockState) -> dict[str, str]:
    return {line.key: line.comment for line in state.lines if line.key is not None and line.comment}
