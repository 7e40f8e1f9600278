"""An open .quantize file: fast index, customized-layer edits with undo, atomic save.

Past 400 lines: one concept, the open document; its open, verify and save share the scan's
states (fast index, unconfirmed, verified) and would only pass them across modules."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path
from typing import TypeVar

from quanted.core.format import block, block_parse, scanner, split_scan
from quanted.core.document import empty_header
from quanted.core.disk import verdicts
from quanted.core.format.engine_yaml import refuse_unloadable
from quanted.core.errors import EditError, FileChangedError, ReadError
from quanted.core.disk.files import locked, read_stamped, remove_stale_temps, still_as_read
from quanted.core.disk.saving import atomic_write
from quanted.core.format.scanner import CUSTOMIZED, Scan, TensorQtype
from quanted.core.disk.stamp import DiskStamp

_T = TypeVar("_T")


class QuantizeDocument:
    """A .quantize file held as its original bytes plus an editable customized block."""

    def __init__(self, data: bytes, path: str | Path | None = None, *, full: bool = True,
                 scan: Scan | None = None) -> None:
        """`full=False`: the fast index (top-level lines only); verify() runs the full scan,
        as save() does before it writes anything. `scan`: an index of these very bytes made
        elsewhere (the full scan's verdict, recalled: core/disk/verdicts.py)."""
        self.path = Path(path) if path is not None else None
        self._label = str(path) if path is not None else "<input>"
        if scan is None:
            scan = (split_scan.full_scan(data, self._label) if full
                    else scanner.index(data, self._label))
        self.scan: Scan = scan
        self._data = data
        self._pending: list[bytes | memoryview] | None = None
        entry = self.scan.entries[CUSTOMIZED]
        self._block_span = (entry.start, entry.end)
        block_text = data[entry.start : entry.end].decode("utf-8")
        self._saved = block_parse.parse(block_text, self._label, lambda: self.block_line)
        indent = block.first_indent(self._saved) or " " * self.scan.key_indent
        empty = self._saved.header if block.is_empty(self._saved) else None
        self._editor = block.Editor(indent, self.scan.newline, self._saved.header, empty)
        self._states: list[block.BlockState] = [self._saved]
        self._position = self._batch_depth = 0
        self._batch_start: int | None = None
        self._derived: dict[tuple[str, int], tuple[block.BlockState, object]] = {}
        self.stamp: DiskStamp | None = None  # the version of the file `data` is (None: no file)

    @classmethod
    def open(cls, path: str | Path, *, full: bool = True,
             confirm_later: bool = False) -> QuantizeDocument:
        """`full`: as __init__; a version the full scan passed before is not scanned again
        (core/disk/verdicts.py). `confirm_later`: the full scan may still wait for its check
        of the front of the table (core/format/split_scan.py): verify() confirms it, and save()
        does just before its rename (an edit's change and temp file meanwhile); verify()
        then raises FrontDisagrees when the index the document was built on was wrong."""
        path = Path(path)
        remove_stale_temps(path)  # left by a save that was killed
        data, stamp = read_stamped(path)
        recalled = verdicts.recall(stamp)
        if recalled is not None and verdicts.fits(recalled, data):
            recalled.data = data
            doc = cls(data, path, scan=recalled)
        elif full:
            label = str(path)
            scan = split_scan.scan_with_front_aside(data, label)
            if not confirm_later:
                scan = split_scan.confirm(scan, label)
            try:
                doc = cls(data, path, scan=scan)
            except Exception:
                # The file's error comes first; and an error found where a wrong index
                # pointed is no error of the file's.
                if split_scan.confirm(scan, label) is not scan:
                    raise split_scan.FrontDisagrees(label) from None
                raise
            except BaseException:
                split_scan.abandon(scan)
                raise
            verdicts.record(stamp, doc.scan)  # (not before it is verified)
        else:
            doc = cls(data, path, full=False)
        doc.stamp = stamp
        if doc._editor.empty_header is None:
            doc._editor.empty_header = empty_header.recall(path)
        return doc

    def verify(self) -> None:
        """The full scan, once: ReadError when the file is not one quanted may write;
        FrontDisagrees when an unconfirmed scan (open's confirm_later) proves wrong."""
        scan = self._indexed()
        if scan.verified:
            return
        if scan.unconfirmed is not None:
            if split_scan.confirm(scan, self._label) is not scan:
                raise split_scan.FrontDisagrees(self._label)
            if self.stamp is not None:
                verdicts.record(self.stamp, scan)
            return
        full = split_scan.full_scan(self.data, self._label, text_checked=True)
        if (full.entries, full.key_indent, full.field_indent, full.newline, full.legacy) != (
            scan.entries, scan.key_indent, scan.field_indent, scan.newline, scan.legacy
        ):
            raise ReadError("the fast index and the full scan disagree; not written",
                            self._label)
        scan.verified, scan.refusals = True, full.refusals
        scan.double_quoted_keys = full.double_quoted_keys
        if self.stamp is not None:
            verdicts.record(self.stamp, scan)

    @property
    def data(self) -> bytes:
        """The file's bytes as last read or saved (joined lazily after a save)."""
        if self._pending is not None:
            self._data = b"".join(self._pending)
            self._pending = None
            self.scan = self.scan.replace(data=self._data)
        return self._data

    @cached_property
    def tensor_keys(self) -> list[str]:
        return scanner.tensor_keys(self._indexed())

    @cached_property
    def tensors_by_layer(self) -> dict[str, list[str]]:
        """Layer id -> its tensor keys, in file order."""
        return scanner.group_by_layer(self.tensor_keys)

    @property
    def layer_ids(self) -> list[str]:
        return list(self.tensors_by_layer)

    def layer_names(self) -> Collection[str]:
        """The layer ids: the grouping's when held, else only the distinct ids (a quarter of it)."""
        held = self.__dict__.get("tensors_by_layer")
        return held if held is not None else scanner.layer_names(self.tensor_keys)

    def has_layer(self, layer: str) -> bool:
        """True when some tensor `@LAYER:PORT` exists; a byte search unless the ids are held."""
        if "tensors_by_layer" in self.__dict__:
            return layer in self.layer_names()
        return scanner.has_layer(self._indexed(), layer)

    def tensor_fields(self, key: str) -> dict[str, str]:
        """The scalar fields of one tensor entry, read on demand from its lines."""
        return scanner.tensor_fields(self._indexed(), key)

    def tensor_qtypes(self) -> dict[str, tuple[str, str]]:
        """Every tensor key -> (quantizer, qtype), in one pass over the table."""
        return scanner.tensor_qtypes(self._indexed())

    def _indexed(self) -> Scan:
        self.data  # noqa: B018 - materialise a pending save before the scan reads it
        return self.scan

    def qtypes_by_layer(self) -> dict[str, list[TensorQtype]]:
        """Layer id -> its tensors' quantizer and qtype, in file order (one pass over the
        table; "" where a tensor has no such field)."""
        return scanner.qtypes_by_layer(self._indexed())

    # -- the customized block ------------------------------------------------------

    @property
    def block_state(self) -> block.BlockState:
        return self._states[self._position]

    def _memo(self, what: str, state: block.BlockState, compute: Callable[[], _T]) -> _T:
        """`compute()` once per (immutable) state: a bulk edit of 18,000 layers makes every
        derived view O(n), and the screen asks for them on every keystroke."""
        hit = self._derived.get((what, id(state)))
        if hit is not None and hit[0] is state:
            return hit[1]  # type: ignore[return-value]
        if len(self._derived) > 64:
            self._derived.clear()
        value = compute()
        self._derived[(what, id(state))] = (state, value)
        return value

    @property
    def customized(self) -> dict[str, str]:
        """Layer id -> qtype, in file order, as it will be saved (a copy)."""
        return dict(self._entries(self.block_state))

    @property
    def saved_customized(self) -> dict[str, str]:
        return dict(self._entries(self._saved))

    def _entries(self, state: block.BlockState) -> dict[str, str]:
        return self._memo("entries", state, lambda: block.entries(state))

    def customized_count(self) -> int:
        """len(customized), without its copy (200,000 entries at a bulk add's status line)."""
        return len(self._entries(self.block_state))

    def comments(self) -> dict[str, str]:
        """Layer id -> its trailing comment, as it will be saved."""
        state = self.block_state
        return dict(self._memo("comments", state, lambda: block.comments(state)))

    def saved_comments(self) -> dict[str, str]:
        """Layer id -> its trailing comment, as on disk."""
        return dict(self._memo("comments", self._saved, lambda: block.comments(self._saved)))

    def unsaved_changes(self) -> dict[str, str]:
        """Layer id -> ADDED, CHANGED (its qtype or comment) or REMOVED, for every difference
        between the block as it will be saved and the file as last read or saved; removed
        layers come last."""
        return block.changes(self._entries(self.block_state), self._entries(self._saved),
                             self.comments(), self.saved_comments())

    @property
    def block_line(self) -> int:
        """1-based line of the `customized_quantize_layers` header."""
        return scanner.line_of(self.data, self._block_span[0])

    def block_text(self) -> str:
        return block.render(self.block_state)

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
        self.set_layers({layer: qtype})

    def set_layers(self, qtypes: dict[str, str]) -> None:
        """Set or add many layers as one edit (one undo step), in one pass."""
        if qtypes:
            before = self.block_state
            self._push(self._editor.set_many(before, qtypes))
            if self.block_state is not before:
                # set_many keeps each place and appends in order: no read of 200,000 new lines
                found = {**self._entries(before), **qtypes}
                self._memo("entries", self.block_state, lambda: found)

    def remove_layer(self, layer: str) -> None:
        self.remove_layers([layer])

    def remove_layers(self, layers: list[str]) -> None:
        """Remove many layers as one edit (one undo step), in one pass over the lines."""
        current = self._entries(self.block_state)
        missing = [layer for layer in layers if layer not in current]
        if missing:
            raise EditError(f"layer {missing[0]!r} is not in customized_quantize_layers")
        if layers:
            self._push(self._editor.remove_many(self.block_state, set(layers)))

    def set_comment(self, layer: str, comment: str | None) -> None:
        self._push(self._editor.set_comment(self.block_state, layer, comment))

    def set_comments(self, comments: dict[str, str | None]) -> None:
        """Many layers' trailing comments as one edit, in one pass."""
        if comments:
            self._push(self._editor.set_comments(self.block_state, comments))

    def insert_comments(self, texts: list[str], before_layer: str | None = None) -> None:
        """Full-line comments above a layer's line, or at the top of the block."""
        self._push(self._editor.insert_comments(self.block_state, texts, before_layer))

    def replace_block(self, text: str) -> None:
        """Make the block exactly `text` (a header line and its body, as block_text() gives it),
        as one undoable edit: how an earlier attempt's list comes back, comments and all."""
        if not text.endswith(("\n", "\r")) and self._block_span[1] < len(self.data):
            text += self.scan.newline  # a block followed by more keys must end its last line
        self._push(block_parse.parse(text, self._label, lambda: self.block_line))

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
        state = self.block_state
        if state is self._saved:
            return False
        return self._memo("modified", state, lambda: state != self._saved)

    # -- output ---------------------------------------------------------------------

    def _chunks(self, text: str | None = None) -> list[bytes | memoryview]:
        """The file's bytes with the block as it will be saved (`text`: its block_text())."""
        if not self.is_modified:
            return [self.data]
        start, end = self._block_span
        view = memoryview(self.data)
        return [view[:start], (text or self.block_text()).encode("utf-8"), view[end:]]

    def to_bytes(self) -> bytes:
        return b"".join(self._chunks())

    def changed_on_disk(self) -> bool:
        """The file on disk is no longer the version this document read or last saved."""
        try:
            self._still_as_read()
        except FileChangedError:
            return True
        return False

    def _still_as_read(self) -> None:
        """FileChangedError unless the file on disk is the version read or last saved."""
        if self.path is not None and self.stamp is not None:
            still_as_read(self.path, self.stamp, lambda: self.data)

    @contextmanager
    def file_error_first(self) -> Iterator[None]:
        """What the block raises comes after the file's own error, as when the full scan ran
        first: an unconfirmed scan (open's confirm_later) is confirmed before it propagates
        (ReadError, or FrontDisagrees when it proves wrong); a stop (Ctrl-C) kills its child
        instead."""
        try:
            yield
        except Exception:
            if self.scan.unconfirmed is not None:
                self.verify()
            raise
        except BaseException:
            split_scan.abandon(self.scan)
            raise

    def _confirmed_then(self, expect: Callable[[], None] | None) -> Callable[[], None]:
        def checks() -> None:
            self.verify()
            if expect is not None:
                expect()

        return checks

    def save(self, path: str | Path | None = None, *, overwrite: bool = False,
             force: bool = False) -> Path:
        """Write atomically under the file's lock. Refuses if the file changed on disk, unless
        `overwrite`, when it starts and again just before the rename; refuses a read-only file
        unless `force`."""
        target = Path(path) if path is not None else self.path
        if target is None:
            raise EditError("no file name to save to")
        # The lock keeps other quanteds out from the check to the rename; other programs are
        # looked for once more just before the rename (expect).
        with locked(target):
            expect = self._still_as_read if target == self.path and not overwrite else None
            if expect is not None:
                expect()
            # Never write what the full scan rejects: the rest of the file is checked once
            # (or was, by an earlier run), the new block each time (it is all that changed);
            # the file's error first. Written in pieces: joining 15 MB costs a tenth of the
            # budget.
            text = self.block_text() if self.is_modified else None  # rendered once
            chunks = self._chunks(text)
            was_empty = block.is_empty(self._saved)
            if self.scan.unconfirmed is None:
                self.verify()
                checks = expect
            else:  # confirmed with the temp file written, just before the rename
                checks = self._confirmed_then(expect)
            with self.file_error_first():
                if text is not None:
                    scanner.check_block(text, self._label, self.scan.legacy)
                # never a file the engine's YAML loader refuses
                refuse_unloadable(self.data, self.scan.refusals, self._block_span, text,
                                  self._label)
                stamp = atomic_write(target, chunks, force=force, expect=checks)
            if was_empty and not block.is_empty(self.block_state):
                empty_header.remember(target, self._saved.header)
            replaced = self.stamp if target == self.path else None
            # The saved text becomes the new baseline; undo history stays usable.
            self._rebase(chunks, target, stamp)
            if replaced is not None and replaced[:2] != stamp[:2]:
                verdicts.forget(replaced)
            verdicts.record(stamp, self.scan)
        return target

    def _rebase(self, chunks: list[bytes | memoryview], path: Path, stamp: DiskStamp) -> None:
        """Make the saved bytes the baseline. Only the block changed, so offsets after it
        shift by the size difference: no second scan of a 15 MB file."""
        start, end = self._block_span
        new_end = end + sum(len(c) for c in chunks) - len(self.data)
        # refusals: none, or the save was refused (core/format/engine_yaml.py)
        self.scan = self.scan.replace(entries=scanner.moved(self.scan, CUSTOMIZED, new_end),
                                      refusals=[])
        self._pending = chunks
        self._block_span = (start, new_end)
        self._saved = self.block_state
        self.path = path
        self._label = str(path)
        self.stamp = stamp
